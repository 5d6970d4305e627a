"""Coder's dashboard requests (tests/node/coder_dashboard.test.mjs, built as the dashboard builds them with
URLSearchParams and date-fns) against the local stack's insights routes, after a week of Coder-shaped telemetry
went through the real ingestion API and the scheduled jobs ran."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local import demo_data
from local.stack import LocalStack
from tests.e2e.conftest import PARAMETERS
from tests.e2e.test_cube_js_client import node, run_node_test  # noqa: F401 - the node fixture

pytestmark = pytest.mark.e2e
NODE_TEST = 'coder_dashboard.test.mjs'
# West of UTC, so the dashboard's tz_offset is not 0 (and its sign is Coder's: positive for a western zone).
DASHBOARD_TIME_ZONE = 'America/New_York'
# The moment the telemetry ends, the stack's clock and the dashboard's `new Date()` (NOW in the Node test): no run
# depends on its day or hour (a week of standard time in New York, no DST change inside it).
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


@pytest.fixture(scope='module')
def coder_stack() -> Iterator[LocalStack]:
    with LocalStack(moto_port=0, api_port=0, api_key='coder-dashboard-key', parameter_overrides=PARAMETERS) as stack:
        events = demo_data.coder_events(7, now=NOW)
        assert demo_data.load(stack.url, stack.api_key, events) == len(events)
        stack.drain()
        stack.scheduler.run_all()
        yield stack


def test_coder_dashboard_requests_get_every_field_it_reads(node: str, coder_stack: LocalStack) -> None:  # noqa: F811
    environment = {
        **os.environ,
        'API_URL': coder_stack.url,
        'API_KEY': coder_stack.api_key,
        'TZ': DASHBOARD_TIME_ZONE,
        'NOW': NOW.isoformat(),
    }
    assert run_node_test(node, NODE_TEST, environment) == 5
