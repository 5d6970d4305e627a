"""One local stack per test module, on free loopback ports, with a short batching window to keep tests fast."""

from collections.abc import Iterator

import pytest

from local.stack import LocalStack

# The template's window (seconds) is a parameter; a deploy may override it, and so do the tests.
PARAMETERS = {'StreamBatchingWindowSeconds': '1'}


@pytest.fixture(scope='module')
def stack() -> Iterator[LocalStack]:
    with LocalStack(moto_port=0, api_port=0, api_key='e2e-local-key', parameter_overrides=PARAMETERS) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_leftover_faults(stack: LocalStack) -> Iterator[None]:
    yield
    stack.kinesis_faults.clear()
