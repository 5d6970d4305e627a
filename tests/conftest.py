"""Shared fixtures: safe AWS and Powertools environment, a Lambda context, and the sample events."""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from local.environment import required_settings_environment

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / 'events'

# Set before any test module imports a handler: Powertools reads these at import time, and no test may
# ever reach a real AWS account.
os.environ.update(
    AWS_ACCESS_KEY_ID='testing',
    AWS_SECRET_ACCESS_KEY='testing',
    AWS_SESSION_TOKEN='testing',
    AWS_DEFAULT_REGION='us-east-1',
    POWERTOOLS_SERVICE_NAME='product-analytics-tests',
    POWERTOOLS_METRICS_NAMESPACE='ProductAnalyticsTests',
    POWERTOOLS_TRACE_DISABLED='1',
    POWERTOOLS_LOG_LEVEL='WARNING',
)
# The settings without a default (the stack's resources) under the local stack's names, so a handler called
# directly finds them; tests that reach AWS point the same names at a moto server.
for _name, _value in required_settings_environment().items():
    os.environ.setdefault(_name, _value)


@dataclass
class FakeLambdaContext:
    function_name: str = 'test-function'
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = 'arn:aws:lambda:us-east-1:123456789012:function:test-function'
    aws_request_id: str = '00000000-0000-0000-0000-000000000000'

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def load_event(name: str) -> dict[str, Any]:
    """A sample trigger event from events/<name>.json (the same files `sam local invoke -e` takes)."""
    return json.loads((EVENTS_DIR / f'{name}.json').read_text())


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Settings and clients are cached per process; each test starts from the current environment."""
    from local.environment import refresh_handler_caches

    refresh_handler_caches()
    yield
    refresh_handler_caches()


@pytest.fixture
def override_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`override_settings(NAME=value, ...)` sets settings through their variables until the test ends (then
    _fresh_settings reads the restored variables again)."""
    from local.environment import refresh_handler_caches

    def override(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        refresh_handler_caches()

    return override


@pytest.fixture
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], datetime]:
    """Pin the time every module reads (`serverless_analytics.clock.now`): `pinned_now(datetime(...))`."""

    def pin(moment: datetime) -> datetime:
        from serverless_analytics import clock

        monkeypatch.setattr(clock, 'now', lambda: moment)
        return moment

    return pin
