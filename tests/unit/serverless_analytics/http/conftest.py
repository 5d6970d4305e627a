"""An in-memory API key table for the HTTP tests of every family."""

from collections.abc import Callable
from typing import Any

import pytest

from local.environment import stack_settings
from serverless_analytics.adapters import dynamodb
from serverless_analytics.logic.api_keys import create_key, key_id_of
from serverless_analytics.models.api_key import Scope
from serverless_analytics.models.errors import ServiceUnavailableError

FAILING_KEY = 'sa_secret-of-a-failing-lookup'


@pytest.fixture
def key_table(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str, Scope], None]:
    """`key_table(key, project_id, scope)` stores a key; looking up FAILING_KEY fails as DynamoDB would."""
    items: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(dynamodb, 'put_item', lambda table, item: items.__setitem__(item['key_id'], item))

    def get_item(table: str, key: dict[str, str]) -> dict[str, Any] | None:
        if key['key_id'] == key_id_of(FAILING_KEY):
            raise ServiceUnavailableError('DynamoDB request failed: ProvisionedThroughputExceededException')
        return items.get(key['key_id'])

    monkeypatch.setattr(dynamodb, 'get_item', get_item)
    return lambda key, project_id, scope: create_key(stack_settings(), project_id, [scope], key=key) and None
