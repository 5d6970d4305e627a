"""The dry-run endpoint: the normalised query and its order, on both path families, without running anything."""

from datetime import UTC, datetime

import pytest

from functions.dry_run_query.app import lambda_handler
from serverless_analytics.logic import query_engine
from tests.conftest import load_event
from tests.integration.conftest import invoke, with_body

# The seed's "This week" is resolved against the clock: pinned, so two dry runs agree even across a Monday midnight.
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # a Sunday


@pytest.fixture(autouse=True)
def _pinned_clock(pinned_now) -> None:
    pinned_now(NOW)


def _cube_path(event: dict) -> dict:
    event['rawPath'] = event['requestContext']['http']['path'] = '/cubejs-api/v1/dry-run'
    event['routeKey'] = 'POST /cubejs-api/v1/dry-run'
    event.pop('pathParameters')
    event['headers']['authorization'] = event['headers'].pop('private-token')
    return event


def test_seed_dry_run_answers_the_normalised_query_and_runs_nothing(aws, lambda_context, override_settings):
    # Given: the function's production configuration (its role may not use Athena), no engine built yet
    override_settings(QUERY_ENGINE='athena')
    query_engine._athena.cache_clear()

    # When
    status, body = invoke(lambda_handler, load_event('dry_run_query'), lambda_context)

    # Then
    assert status == 200
    assert body['queryType'] == 'regularQuery'
    [normalized] = body['normalizedQueries']
    assert (normalized['dimensions'], normalized['limit']) == (['TrackedEvents.docPath'], 23)
    # "This week" of the pinned Sunday: Monday to Sunday, UTC
    assert normalized['timeDimensions'] == [
        {'dimension': 'TrackedEvents.utcTime', 'dateRange': ['2026-11-16T00:00:00.000', '2026-11-22T23:59:59.999']}
    ]
    assert body['queryOrder'] == [
        {'TrackedEvents.count': 'desc', 'TrackedEvents.docPath': 'desc', 'TrackedEvents.utcTime': 'asc'}
    ]
    assert body['transformedQueries'] == [None]
    # ...and it needed no engine (building one creates the Athena client, which a dry run has no use for)
    assert query_engine._athena.cache_info().currsize == 0


def test_both_families_answer_the_same_dry_run(aws, lambda_context):
    gitlab = invoke(lambda_handler, load_event('dry_run_query'), lambda_context)
    cube = invoke(lambda_handler, _cube_path(load_event('dry_run_query')), lambda_context)
    assert gitlab[0] == 200
    assert cube == gitlab


def test_an_invalid_query_gets_each_familys_error(aws, lambda_context):
    event = with_body('dry_run_query', {'query': {'measures': ['TrackedEvents.nope']}})
    status, body = invoke(lambda_handler, event, lambda_context)
    assert (status, set(body)) == (400, {'message'})
    assert 'TrackedEvents.nope' in body['message']

    status, body = invoke(lambda_handler, _cube_path(event), lambda_context)
    assert (status, body['type']) == (400, 'UserError')
    assert 'TrackedEvents.nope' in body['error']
