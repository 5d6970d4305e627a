"""The user-status-counts route against moto: generated Coder telemetry (created, suspended and restored, deleted
and never-created users) through the real ingestion handlers and stream writer, the daily status job, the
answer from the status history compared with the independent reference."""

from datetime import UTC, datetime, timedelta

import pytest

from functions.get_user_status_counts.app import lambda_handler as counts_handler
from functions.update_user_status.app import lambda_handler as status_job
from local.coder_telemetry import generate, page_view_event, user_body
from local.runtime import LocalFunction
from tests.conftest import load_event
from tests.insights_reference import reference
from tests.integration.conftest import TEMPLATE, ingest, invoke

START = datetime(2026, 11, 28, tzinfo=UTC)
SILENT = user_body('6f1c2d3e-0000-4000-8000-00000000d0d0', 'olivia', 'https://avatars.example.com/olivia.png')


@pytest.fixture(scope='module')
def events():
    telemetry = generate(seed=5, start=START, days=4, users=8, templates=2)
    return [page_view_event(START - timedelta(days=100), SILENT), *telemetry.events]


@pytest.fixture
def now(aws, lambda_context, pinned_now, events):
    moment = pinned_now(datetime(2026, 12, 2, 1, 20, tzinfo=UTC))
    ingest(aws, events, lambda_context)
    return moment


def _request(query: str) -> dict:
    event = load_event('get_user_status_counts')
    event['rawQueryString'] = query
    event.pop('queryStringParameters', None)
    return event


@pytest.mark.parametrize(
    'query', ['tz_offset=0', 'tz_offset=-2', 'tz_offset=5&interval=43200', 'timezone=Europe/Paris']
)
def test_status_counts_equal_the_reference(now, events, lambda_context, query):
    context = LocalFunction(TEMPLATE.function('UpdateUserStatusFunction')).context()
    assert status_job(load_event('update_user_status'), context)['users_made_dormant'] == 1  # olivia, silent 100 days

    status, body = invoke(counts_handler, _request(query), lambda_context)

    params = dict(pair.split('=') for pair in query.split('&'))
    history = reference.status_history(events, dormancy_runs=[now])
    expected = reference.user_status_counts(
        *history,
        now,
        tz_offset=int(params.get('tz_offset', 0)),
        timezone=params.get('timezone'),
        interval=int(params.get('interval', 86400)),
    )
    assert status == 200, body
    assert body == expected
    assert set(body['status_counts']) >= {'active', 'dormant'}


def test_both_timezone_forms_are_refused(aws, lambda_context):
    status, body = invoke(counts_handler, _request('tz_offset=1&timezone=Europe/Paris'), lambda_context)

    assert (status, body) == (400, {'message': 'Provide either "timezone" or "tz_offset", not both.'})
