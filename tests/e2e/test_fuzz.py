"""Property-based fuzz of every route of the OpenAPI document against the local stack: requests that follow the
document and requests that break it (schemathesis' positive and negative generation), all with a valid key.
No answer may be a 5xx, and every refusal is in its family's error shape."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from local.openapi import DOCUMENT_PATH
from local.stack import LocalStack
from tests.e2e.family_shapes import is_family_error
from tests.e2e.support import bearer

EXAMPLES_PER_ROUTE = 60
SCHEMA = schemathesis.openapi.from_dict(json.loads(DOCUMENT_PATH.read_text()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
answered: list[int] = []


@pytest.fixture(scope='module', autouse=True)
def request_count() -> Iterator[None]:
    yield
    print(f'\nfuzz: {len(answered)} requests, {sum(s >= 500 for s in answered)} answered 5xx')


def _cases(operation: Any) -> st.SearchStrategy:
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))


@pytest.mark.parametrize('operation', OPERATIONS, ids=[f'{op.method.upper()} {op.path}' for op in OPERATIONS])
def test_no_input_gets_a_5xx_and_every_refusal_is_in_its_familys_shape(operation, stack: LocalStack):
    @given(_cases(operation))
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(base_url=stack.url, headers=bearer(stack.api_key), timeout=60)
        answered.append(response.status_code)
        assert response.status_code < 500, f'{case.method} {case.formatted_path}: {response.text[:500]}'
        if response.status_code >= 400:
            body = json.loads(response.text)
            assert is_family_error(case.formatted_path, body), (response.status_code, body)

    check()
