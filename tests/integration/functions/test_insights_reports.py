"""The template, user-activity and user-latency routes against moto: generated Coder telemetry ingested through
the real handlers, the scheduled rollup, SQL over the usage buckets on the local DuckDB engine reading moto's S3,
users named from the stream writer's directory; the answers equal the independent reference."""

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from functions.get_template_insights.app import lambda_handler as templates_handler
from functions.get_user_activity.app import lambda_handler as activity_handler
from functions.get_user_latency.app import lambda_handler as latency_handler
from local.coder_telemetry import generate
from tests.conftest import load_event
from tests.insights_reference import reference
from tests.integration.conftest import invoke

START = datetime(2026, 11, 28, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


@pytest.fixture(scope='module')
def telemetry():
    return generate(seed=11, start=START, days=4, users=6, templates=3)


def _request(route: str, query: list[tuple[str, str]]) -> dict:
    """The request as Coder's dashboard builds it: URLSearchParams, times as `yyyy-MM-dd'T'HH:mm:ss±HH:MM`."""
    event = load_event('get_daus')
    path = f'/api/v2/insights/{route}'
    event['rawPath'] = event['requestContext']['http']['path'] = path
    event['routeKey'] = event['requestContext']['routeKey'] = f'GET {path}'
    event['rawQueryString'] = urlencode(query)
    event.pop('queryStringParameters', None)
    return event


def _dashboard_time(moment: datetime) -> str:
    return moment.isoformat()


WINDOWS = [
    (datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), 'day'),
    (datetime(2026, 11, 28, tzinfo=PLUS_TWO), datetime(2026, 12, 1, tzinfo=PLUS_TWO), ''),
    (datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), 'week'),
]


@pytest.mark.parametrize(('start', 'end', 'interval'), WINDOWS)
def test_template_insights_equal_the_reference(rolled_up, telemetry, lambda_context, start, end, interval):
    events = telemetry.events
    query = [('start_time', _dashboard_time(start)), ('end_time', _dashboard_time(end))]
    query += [('interval', interval)] if interval else []

    status, body = invoke(templates_handler, _request('templates', query), lambda_context)

    expected = reference.template_insights(
        reference.usage_buckets(events),
        reference.app_catalogue(events),
        reference.workspace_builds(events),
        start,
        end,
        interval=interval or None,
    )
    assert status == 200, body
    assert body == expected
    assert body['report']['active_users'] > 0


def test_a_project_whose_catalogue_is_not_written_yet_answers_as_the_reference(
    aws, rolled_up, telemetry, lambda_context
):
    """A lake rolled up before the catalogue was kept, and no event since: the apps come from every build."""
    key = 'usage/project_id=1/catalogue/catalogue.parquet'
    assert aws.client('s3').head_object(Bucket=aws.name('LakeBucket'), Key=key)  # the rollup wrote it: the other
    aws.client('s3').delete_object(Bucket=aws.name('LakeBucket'), Key=key)  # tests of this module read it
    start, end = WINDOWS[0][:2]
    query = [('start_time', _dashboard_time(start)), ('end_time', _dashboard_time(end))]

    status, body = invoke(templates_handler, _request('templates', query), lambda_context)

    events = telemetry.events
    expected = reference.template_insights(
        reference.usage_buckets(events), reference.app_catalogue(events), reference.workspace_builds(events), start, end
    )
    assert status == 200, body
    assert body == expected
    assert [app for app in body['report']['apps_usage'] if app['type'] == 'app']


@pytest.mark.parametrize(
    ('route', 'answer'), [('user-activity', reference.user_activity), ('user-latency', reference.user_latency)]
)
def test_user_reports_equal_the_reference_with_the_directorys_names(
    rolled_up, telemetry, lambda_context, route, answer
):
    handler = activity_handler if route == 'user-activity' else latency_handler
    start, end = datetime(2026, 11, 28, tzinfo=PLUS_TWO), datetime(2026, 12, 2, tzinfo=PLUS_TWO)
    template_ids = telemetry.template_ids[:2]
    query = [('template_ids', ','.join(template_ids)), ('start_time', start.isoformat()), ('end_time', end.isoformat())]

    status, body = invoke(handler, _request(route, query), lambda_context)

    events = telemetry.events
    expected = answer(reference.usage_buckets(events), reference.user_directory(events), start, end, template_ids)
    assert status == 200, body
    assert body == expected
    assert body['report']['users']
    assert all(user['username'] for user in body['report']['users'])


def test_a_window_ending_in_the_future_is_coders_refusal(aws, lambda_context, pinned_now):
    pinned_now(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    query = [('start_time', '2026-11-28T00:00:00Z'), ('end_time', '2026-12-03T00:00:00Z')]

    status, body = invoke(templates_handler, _request('templates', query), lambda_context)

    assert (status, body) == (
        400,
        {
            'message': 'Query parameter has invalid value.',
            'validations': [{'field': 'end_time', 'detail': 'Query param "end_time" must not be in the future'}],
        },
    )
