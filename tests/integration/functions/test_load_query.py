"""The load endpoint over events that went through the real ingestion path, answers checked against counts
computed here in plain Python."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.get_meta.app import lambda_handler as meta_handler
from functions.load_query.app import lambda_handler
from serverless_analytics.config import get_settings
from serverless_analytics.engines import QueryEngine, QueryResult
from serverless_analytics.logic import cube_queries
from serverless_analytics.logic.api_keys import create_key
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.api_key import Scope
from tests.conftest import load_event
from tests.integration.conftest import ingest, invoke, with_body, with_headers

PAGES = ['/docs/intro', '/docs/setup', '/pricing']
# The clock of every test here (a Sunday afternoon, so "This week" holds six and a half days): Cube's relative
# ranges and the events of "this week" are read against it, whatever the day or hour the test runs.
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_clock(pinned_now) -> None:
    pinned_now(NOW)


@pytest.fixture
def this_week_events(aws, lambda_context) -> list[dict]:
    """Page views of the current ISO week (Monday 00:00 UTC until NOW), plus a few from long before it."""
    now = NOW
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    span = max(int((now - monday).total_seconds()) - 60, 1)
    events = [
        {
            'event_name': 'page_view',
            'category': 'page_view',
            'page_url': f'https://docs.example.com{PAGES[i % 3 if i % 5 else 0]}',
            'session_id': f's{i % 4}',
            'user_id': f'u{i % 3}',
            'timestamp': (monday + timedelta(seconds=span * i // 23)).isoformat(),
        }
        for i in range(23)
    ]
    events += [
        {'event_name': 'page_view', 'page_url': 'https://docs.example.com/pricing', 'timestamp': '2024-02-01T10:00:00Z'}
    ] * 4
    ingest(aws, events, lambda_context)
    return events


def _seed_example(**overrides) -> dict:
    event = load_event('load_query')
    body = json.loads(event['body'])
    body.update(overrides)
    event['body'] = json.dumps(body)
    return event


def _this_weeks_counts_by_path(events: list[dict]) -> dict[str, str]:
    this_week = [e for e in events if not e['timestamp'].startswith('2024')]
    expected = Counter(e['page_url'].removeprefix('https://docs.example.com') for e in this_week)
    return {path: str(count) for path, count in expected.items()}


def _counts_by_path(data: list[dict]) -> dict[str, str]:
    return {row['TrackedEvents.docPath']: row['TrackedEvents.count'] for row in data}


def test_seed_example_counts_this_weeks_events_by_path(aws, lambda_context, this_week_events):
    # Given: the seed document's first example, sent as GitLab's frontend sends it
    # When
    status, body = invoke(lambda_handler, load_event('load_query'), lambda_context)

    # Then: Cube's multi wrapper, with counts equal to the events of this week by path
    assert status == 200
    assert body['queryType'] == 'regularQuery'
    [result] = body['results']
    assert _counts_by_path(result['data']) == _this_weeks_counts_by_path(this_week_events)
    counts = [int(row['TrackedEvents.count']) for row in result['data']]
    assert counts == sorted(counts, reverse=True)
    assert result['query']['limit'] == 23
    assert result['annotation']['measures']['TrackedEvents.count']['type'] == 'number'


def test_dashboard_query_gets_gitlabs_zero_filled_days(aws, lambda_context, this_week_events):
    now = NOW
    first = (now - timedelta(days=now.weekday() + 3)).date()
    query = {
        'measures': ['TrackedEvents.pageViewsCount'],
        'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day'}],
        'filters': [
            {
                'member': 'TrackedEvents.derivedTstamp',
                'operator': 'inDateRange',
                'values': [str(first), str(now.date())],
            }
        ],
        'limit': 100,
        'timezone': 'UTC',
    }
    status, body = invoke(lambda_handler, _seed_example(query=query), lambda_context)

    assert status == 200
    data = body['results'][0]['data']
    expected_days = {str(first + timedelta(days=n)) for n in range((now.date() - first).days + 1)}
    by_day = {row['TrackedEvents.derivedTstamp.day'][:10]: row['TrackedEvents.pageViewsCount'] for row in data}
    assert set(by_day) == expected_days
    counted = Counter(e['timestamp'][:10] for e in this_week_events if e['timestamp'][:10] >= str(first))
    assert by_day == {day: str(counted.get(day, 0)) for day in expected_days}


def test_cube_path_get_form_uses_the_credentials_project(aws, lambda_context, this_week_events):
    status, body = invoke(lambda_handler, load_event('load_query_cube'), lambda_context)

    assert status == 200
    [result] = body['results']
    assert result['data'] == [
        {'TrackedEvents.eventName': 'page_view', 'TrackedEvents.count': str(len(this_week_events))}
    ]


def test_other_projects_key_gets_gitlabs_404_and_no_data(aws, lambda_context, this_week_events):
    key, _ = create_key(get_settings(), '2', [Scope.READ], 'project 2')

    event = with_headers('load_query', **{'private-token': key})

    assert invoke(lambda_handler, event, lambda_context) == (404, {'message': '404 Project Not Found'})


def test_project_2_sees_none_of_project_1s_events(aws, lambda_context, this_week_events):
    key, _ = create_key(get_settings(), '2', [Scope.READ], 'project 2')
    event = with_headers('load_query_cube', authorization=key)

    status, body = invoke(lambda_handler, event, lambda_context)

    assert status == 200
    assert body['results'][0]['data'] == []


def test_invalid_query_on_gitlab_path_is_400_message(aws, lambda_context):
    event = _seed_example(query={'measures': ['TrackedEvents.nope']})
    status, body = invoke(lambda_handler, event, lambda_context)
    assert status == 400
    assert set(body) == {'message'}
    assert 'TrackedEvents.nope' in body['message']


def test_gitlab_passes_cubes_error_string_on_as_its_400_message(aws, lambda_context):
    event = _seed_example(query={'measures': ['TrackedEvents.count'], 'limit': 50001})
    assert invoke(lambda_handler, event, lambda_context) == (
        400,
        {'message': 'Error: The query limit has been exceeded.'},
    )


@pytest.mark.parametrize(
    ('query', 'error'),
    [
        ('undefined', 'Query param is required'),
        ('', 'Query param is required'),
        ('{"measures":', 'Unable to decode query param as JSON, error: '),
    ],
)
def test_cube_get_form_query_param_errors_are_cubes(aws, lambda_context, query, error):
    event = load_event('load_query_cube')
    event['queryStringParameters']['query'] = query

    status, body = invoke(lambda_handler, event, lambda_context)

    assert (status, body['type']) == (400, 'UserError')
    assert body['error'].startswith(error)


def test_invalid_query_on_cube_path_is_cubes_user_error(aws, lambda_context):
    event = with_body('load_query', {'query': {'measures': ['TrackedEvents.count'], 'limit': 50001}})
    event['rawPath'] = event['requestContext']['http']['path'] = '/cubejs-api/v1/load'
    event['routeKey'] = 'POST /cubejs-api/v1/load'
    event.pop('pathParameters')
    event['headers']['authorization'] = 'local-dev-key'

    status, body = invoke(lambda_handler, event, lambda_context)

    # Cube answers this client mistake with a 500; no client input gets a 5xx here
    assert (status, body) == (400, {'type': 'UserError', 'error': 'Error: The query limit has been exceeded.'})
    event['body'] = json.dumps({'query': {'measures': ['TrackedEvents.nope']}})
    status, body = invoke(lambda_handler, event, lambda_context)
    assert status == 400
    assert body['type'] == 'UserError'


def test_credentials_are_checked_per_family(aws, lambda_context):
    no_key = with_headers('load_query', **{'private-token': None})
    assert invoke(lambda_handler, no_key, lambda_context) == (401, {'message': '401 Unauthorized'})
    cube = with_headers('load_query_cube', authorization=None)
    assert invoke(lambda_handler, cube, lambda_context) == (403, {'error': "Authorization header isn't set"})
    cube = with_headers('load_query_cube', authorization='wrong')
    assert invoke(lambda_handler, cube, lambda_context) == (403, {'error': 'Invalid token'})


def test_include_token_issues_a_project_token_the_read_endpoints_accept(aws, lambda_context, this_week_events):
    status, body = invoke(lambda_handler, _seed_example(include_token=True), lambda_context)
    assert status == 200
    token = body['token']

    # a Cube client sends it raw in Authorization
    assert invoke(meta_handler, with_headers('get_meta_cube', authorization=token), lambda_context)[0] == 200
    # it is scoped to project 1
    other = with_headers('load_query', **{'private-token': token})
    other['pathParameters'] = {'project_id': '2'}
    assert invoke(lambda_handler, other, lambda_context)[0] == 404
    # and cannot be forged
    forged = token[:-4] + ('AAAA' if not token.endswith('AAAA') else 'BBBB')
    assert invoke(meta_handler, with_headers('get_meta_cube', authorization=forged), lambda_context) == (
        403,
        {'error': 'Invalid token'},
    )


class HeldEngine(QueryEngine):
    """The deployment's engine with its answers held back while `held`: a query is "still running" for as long as
    the test says, not for as long as a race between DuckDB and a microsecond budget decides."""

    def __init__(self, engine: QueryEngine) -> None:
        self.engine = engine
        self.dialect, self.db_type, self.lake_source = engine.dialect, engine.db_type, engine.lake_source
        self.held = True

    def start(self, sql: str) -> str:
        return self.engine.start(sql)

    def poll(self, execution_id: str) -> QueryResult | None:
        return None if self.held else self.engine.poll(execution_id)


@pytest.fixture
def held_engine(aws, monkeypatch) -> HeldEngine:
    engine = HeldEngine(query_engine(get_settings()))
    monkeypatch.setattr(cube_queries, 'query_engine', lambda settings: engine)
    return engine


def _query_state(aws):
    return boto3.resource('dynamodb', endpoint_url=aws.endpoint, region_name='us-east-1').Table(
        aws.name('QueryStateTable')
    )


def test_a_slow_query_answers_continue_wait_and_the_retry_resumes_it(
    aws, lambda_context, this_week_events, override_settings, held_engine
):
    # Given: a query that is still running when the request's wait budget ends
    state = _query_state(aws)
    override_settings(QUERY_WAIT_SECONDS='0.05')

    # When
    first = invoke(lambda_handler, load_event('load_query'), lambda_context)

    # Then: Cube's answer, and the running execution is kept under the query's key
    assert first == (200, {'error': 'Continue wait'})
    [kept] = state.scan()['Items']
    assert len(kept['execution_ids']) == 1

    # When the execution has finished and the client retries the identical request
    held_engine.held = False
    override_settings(QUERY_WAIT_SECONDS='20')
    status, body = invoke(lambda_handler, load_event('load_query'), lambda_context)

    # Then it gets the result of that execution, and the state is gone
    assert status == 200
    assert _counts_by_path(body['results'][0]['data']) == _this_weeks_counts_by_path(this_week_events)
    assert state.scan()['Items'] == []


def test_a_kept_execution_that_failed_is_forgotten_so_the_retry_runs_again(
    aws, lambda_context, this_week_events, override_settings, held_engine
):
    # Given: a Continue wait whose kept execution then fails in the engine
    state = _query_state(aws)
    override_settings(QUERY_WAIT_SECONDS='0.05')
    assert invoke(lambda_handler, load_event('load_query'), lambda_context) == (200, {'error': 'Continue wait'})
    [kept] = state.scan()['Items']
    failing = held_engine.start('SELECT * FROM no_such_table')
    state.put_item(Item={**kept, 'execution_ids': [failing]})
    held_engine.held = False
    override_settings(QUERY_WAIT_SECONDS='20')

    # When: the client retries, twice
    failed = invoke(lambda_handler, load_event('load_query'), lambda_context)
    retried = invoke(lambda_handler, load_event('load_query'), lambda_context)

    # Then: the first gets GitLab's backend error and drops the state; the second runs the query afresh
    assert failed == (502, {'message': 'Query backend unavailable, retry later'})
    assert retried[0] == 200
    assert _counts_by_path(retried[1]['results'][0]['data']) == _this_weeks_counts_by_path(this_week_events)
    assert state.scan()['Items'] == []
