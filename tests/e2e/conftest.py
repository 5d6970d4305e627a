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
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    # Only for a test that uses the module's stack: asking for it here would start it beside a test's own
    # stack, and moto's backends are per process, so both pollers would read one stream and write its events
    # to the lake twice.
    if 'stack' in request.fixturenames:
        request.getfixturevalue('stack').kinesis_faults.clear()


@pytest.fixture(scope='module', autouse=True)
def _module_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test module that sets `PINNED_NOW` runs on that clock for as long as its stack runs (the handlers run in this
    process): autouse, so it is set up before the module-scoped `stack` and no request reads the wall clock."""
    moment = getattr(request.module, 'PINNED_NOW', None)
    if moment is None:
        yield
        return
    from serverless_analytics import clock

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, 'now', lambda: moment)
        yield
