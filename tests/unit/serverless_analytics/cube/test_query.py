"""Normalisation details, granularities, partition bounds, blending/ungrouped, and the Athena engine (stub client)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from serverless_analytics.config import Settings
from serverless_analytics.cube import CubeQueryError, Target, compile_request, dry_run, load, plan_load, run_plan
from serverless_analytics.cube.engines.athena_engine import AthenaEngine, AthenaQueryError
from serverless_analytics.cube.engines.base import wait_for
from serverless_analytics.cube.engines.duckdb_engine import DuckDBEngine, UnknownExecutionError
from serverless_analytics.cube.errors import ContinueWait
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.errors import ServiceUnavailableError
from tests.unit.serverless_analytics.cube.conftest import NOW


def _echo(query: dict) -> dict:
    return dry_run(query, now=NOW)['normalizedQueries'][0]


def test_three_part_dimension_moves_to_time_dimensions():
    echo = _echo({'dimensions': ['TrackedEvents.pageUrl', 'TrackedEvents.derivedTstamp.month'], 'limit': '20'})
    assert echo['dimensions'] == ['TrackedEvents.pageUrl']
    assert echo['timeDimensions'] == [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'month'}]
    assert (echo['limit'], echo['rowLimit']) == (20, 20)


@pytest.mark.parametrize(
    ('query', 'message'),
    [
        ('undefined', 'Query param is required'),
        ('{bad json', 'Unable to decode query param as JSON, error: '),
        ({'measures': 'TrackedEvents.count'}, 'Invalid query format: "measures" must be an array'),
        ({'dimensions': ['TrackedEvents.x.quarter']}, 'Invalid query format: "dimensions[0]" with value'),
        ({'measures': ['TrackedEvents.count'], 'limit': 0}, 'Invalid query format: "limit" must be greater than'),
        (
            {'measures': ['TrackedEvents.count'], 'timeDimensions': [{'granularity': 'day'}]},
            'Invalid query format: "timeDimensions[0].dimension" is required',
        ),
        (
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'fortnight'}],
            },
            'Invalid query format: "timeDimensions[0].granularity" must be one of',
        ),
        (
            {'measures': ['TrackedEvents.count'], 'order': [['TrackedEvents.count']]},
            'Invalid query format: "order[0]" must contain at least 2 items',
        ),
        ({'measures': ['TrackedEvents.count', 'Sessions.count']}, "Can't find join path to join"),
        ({'measures': ['TrackedEvents.pageUrl']}, "'pageUrl' not found for path 'TrackedEvents.pageUrl'"),
        (
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.derivedTstamp', 'compareDateRange': ['today']},
                    {'dimension': 'TrackedEvents.utcTime', 'compareDateRange': ['today']},
                ],
            },
            'compareDateRange can only exist for one timeDimension',
        ),
        ([{'measures': ['TrackedEvents.count']}], 'Data blending query without granularity is not supported'),
        (
            {'measures': ['TrackedEvents.count'], 'limit': float('inf')},
            'Invalid query format: "limit" must be a number',
        ),
    ],
)
def test_invalid_queries(query, message):
    with pytest.raises(CubeQueryError) as raised:
        dry_run(query, now=NOW)
    assert raised.value.message.startswith(message)


@pytest.mark.parametrize(
    ('granularity', 'timezone', 'expected'),
    [
        ('hour', 'Asia/Kolkata', '2024-05-15T13:00:00.000'),  # 08:00Z is 13:30 in Kolkata
        ('day', 'America/New_York', '2024-05-15T00:00:00.000'),
        ('week', 'UTC', '2024-05-13T00:00:00.000'),
        ('month', 'UTC', '2024-05-01T00:00:00.000'),
        ('quarter', 'UTC', '2024-04-01T00:00:00.000'),
        ('year', 'UTC', '2024-01-01T00:00:00.000'),
    ],
)
def test_granularity_buckets_in_the_query_timezone(engine, granularity, timezone, expected):
    query = {
        'measures': ['TrackedEvents.count'],
        'timezone': timezone,
        'timeDimensions': [
            {
                'dimension': 'TrackedEvents.derivedTstamp',
                'granularity': granularity,
                'dateRange': ['2024-05-15', '2024-05-15'],
            }
        ],
    }
    data = load(query, '1', engine, now=NOW)['data']
    assert data[-1][f'TrackedEvents.derivedTstamp.{granularity}'] == expected


def _lake_scan(query: dict) -> str:
    """The WHERE of the compiled query's scan of the events lake table."""
    _, _, compiled = compile_request(query, '1', Target('duckdb', 'events'), NOW)
    return compiled[0].sql.split('FROM events WHERE ', 1)[1].split(')', 1)[0]


def test_dt_partition_bounds():
    last_7_days = {'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': 'last 7 days'}
    assert _lake_scan({'measures': ['TrackedEvents.count'], 'timeDimensions': [last_7_days]}) == (
        "project_id = '1' AND dt >= '2024-05-08' AND dt <= '2024-05-14'"
    )
    sessions_started = {'member': 'Sessions.startAt', 'operator': 'inDateRange', 'values': ['2024-05-01', '2024-05-03']}
    assert _lake_scan({'measures': ['Sessions.count'], 'filters': [sessions_started]}) == (
        "project_id = '1' AND dt >= '2024-04-30' AND dt <= '2024-05-04'"  # one day of margin for sessions
    )
    assert _lake_scan({'measures': ['TrackedEvents.count']}) == "project_id = '1'"


def test_ungrouped_and_blending(engine):
    body = load(
        {
            'dimensions': ['TrackedEvents.pageUrlpath'],
            'measures': ['TrackedEvents.count'],
            'ungrouped': True,
            'order': {'TrackedEvents.pageUrlpath': 'asc'},
        },
        '1',
        engine,
        now=NOW,
    )
    assert len(body['data']) == 6 and body['data'][0] == {
        'TrackedEvents.pageUrlpath': '/docs',
        'TrackedEvents.count': '1',
    }
    td = {'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'month'}
    std = {'dimension': 'Sessions.startAt', 'granularity': 'month'}
    body = load(
        [
            {'measures': ['TrackedEvents.count'], 'timeDimensions': [td]},
            {'measures': ['Sessions.count'], 'timeDimensions': [std]},
        ],
        '1',
        engine,
        now=NOW,
        query_type='multi',
    )
    assert body['queryType'] == 'blendingQuery'
    assert [r['data'][0]['time.month'] for r in body['results']] == ['2024-05-01T00:00:00.000'] * 2
    assert body['pivotQuery']['measures'] == ['TrackedEvents.count', 'Sessions.count']


class _SlowEngine:
    """Wraps the DuckDB engine and reports "running" for the first polls of each execution."""

    def __init__(self, inner, running_polls):
        self.inner, self.running_polls, self.polls = inner, running_polls, {}
        self.dialect, self.db_type, self.lake_source = inner.dialect, inner.db_type, inner.lake_source
        self.poll_first_delay, self.poll_max_delay = inner.poll_first_delay, inner.poll_max_delay
        self.started = 0

    def start(self, sql):
        self.started += 1
        return self.inner.start(sql)

    def poll(self, execution_id):
        self.polls[execution_id] = self.polls.get(execution_id, 0) + 1
        if self.polls[execution_id] <= self.running_polls:
            return None
        return self.inner.poll(execution_id)


def test_continue_wait_resumes_the_same_execution(engine):
    slow = _SlowEngine(engine, running_polls=10**6)
    plan = plan_load({'measures': ['TrackedEvents.count']}, '1', slow, now=NOW, query_type='multi')
    with pytest.raises(ContinueWait) as raised:
        run_plan(plan, slow, wait_seconds=0.05)
    assert raised.value.body() == {'error': 'Continue wait'}
    assert raised.value.cache_key == plan.cache_key
    slow.running_polls = 0
    body = run_plan(plan, slow, execution_ids=raised.value.execution_ids, wait_seconds=5)
    assert body['results'][0]['data'] == [{'TrackedEvents.count': '6'}]
    assert slow.started == 1


def test_a_finished_execution_answers_every_poll(engine):
    # A plan resumed after "Continue wait" polls again the statements that finished while another ran on.
    execution_id = engine.start('SELECT 42 AS answer')
    [result] = wait_for(engine, [execution_id], timeout=5)

    assert result.rows == [(42,)]
    assert engine.poll(execution_id).rows == [(42,)]


class _FakeAthena:
    """Records calls and answers like Athena: two polls RUNNING, then SUCCEEDED, results in two pages."""

    def __init__(self, state='SUCCEEDED'):
        self.calls, self.polls, self.state = [], 0, state

    def start_query_execution(self, **kwargs):
        self.calls.append(kwargs)
        return {'QueryExecutionId': 'q-1'}

    def get_query_execution(self, QueryExecutionId):  # noqa: N803 - boto3 argument name
        self.polls += 1
        state = 'RUNNING' if self.polls < 3 else self.state
        return {'QueryExecution': {'Status': {'State': state, 'StateChangeReason': 'SYNTAX_ERROR: boom'}}}

    def get_query_results(self, QueryExecutionId, MaxResults, NextToken=None):  # noqa: N803
        columns = [
            {'Name': 'd', 'Type': 'timestamp'},
            {'Name': 'n', 'Type': 'bigint'},
            {'Name': 'x', 'Type': 'decimal'},
            {'Name': 's', 'Type': 'varchar'},
        ]
        header = {'Data': [{'VarCharValue': c['Name']} for c in columns]}
        if NextToken is None:
            row = {
                'Data': [
                    {'VarCharValue': '2024-05-13 00:00:00.000'},
                    {'VarCharValue': '3'},
                    {'VarCharValue': '1.50'},
                    {},
                ]
            }
            return {
                'ResultSet': {'Rows': [header, row], 'ResultSetMetadata': {'ColumnInfo': columns}},
                'NextToken': 't2',
            }
        row = {'Data': [{}, {'VarCharValue': '4'}, {'VarCharValue': '2'}, {'VarCharValue': 'a'}]}
        return {'ResultSet': {'Rows': [row], 'ResultSetMetadata': {'ColumnInfo': columns}}}


def test_athena_engine_start_poll_and_pages():
    client = _FakeAthena()
    engine = AthenaEngine('primary', 'analytics', client=client, poll_first_delay=0, reuse_minutes=30)
    result = engine.execute('SELECT 1')
    assert client.calls == [
        {
            'QueryString': 'SELECT 1',
            'WorkGroup': 'primary',
            'QueryExecutionContext': {'Database': 'analytics', 'Catalog': 'AwsDataCatalog'},
            'ResultReuseConfiguration': {'ResultReuseByAgeConfiguration': {'Enabled': True, 'MaxAgeInMinutes': 30}},
        }
    ]
    assert result.rows == [(datetime(2024, 5, 13), 3, Decimal('1.50'), None), (None, 4, Decimal('2'), 'a')]
    assert engine.lake_source == '"analytics"."events"'


def test_athena_failures_of_the_service_answer_unavailable():
    class _Throttled:
        def start_query_execution(self, **kwargs):
            raise ClientError({'Error': {'Code': 'TooManyRequestsException', 'Message': 'Rate exceeded'}}, 'Start')

    engine = AthenaEngine('primary', 'analytics', client=_Throttled())
    with pytest.raises(ServiceUnavailableError, match='TooManyRequestsException'):
        engine.start('SELECT 1')


def test_athena_engine_failure_and_running_state():
    engine = AthenaEngine('primary', 'analytics', client=_FakeAthena('FAILED'), poll_first_delay=0)
    assert engine.poll('q-1') is None
    with pytest.raises(AthenaQueryError, match='SYNTAX_ERROR: boom'):
        engine.execute('SELECT 1')


def test_athena_sql_is_trino():
    _, _, compiled = compile_request(
        {
            'measures': ['TrackedEvents.count'],
            'timeDimensions': [
                {'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day', 'dateRange': 'today'}
            ],
            'timezone': 'Europe/Paris',
        },
        '5',
        Target('athena', '"analytics"."events"'),
        datetime(2024, 5, 15, tzinfo=UTC),
    )
    sql = compiled[0].sql
    assert "DATE_TRUNC('day', CAST(AT_TIMEZONE(\"tracked_events\".timestamp, 'Europe/Paris') AS TIMESTAMP))" in sql
    assert "FROM \"analytics\".\"events\" WHERE project_id = '5' AND dt >= '2024-05-14' AND dt <= '2024-05-15'" in sql


def test_a_finished_result_is_forgotten_after_the_retention_the_engine_was_given():
    engine = DuckDBEngine(lake_source='lake', result_retention_seconds=0)
    first = engine.start('SELECT 1')
    wait_for(engine, [first], timeout=5)

    engine.start('SELECT 2')  # forgetting happens when an execution starts

    with pytest.raises(UnknownExecutionError):
        engine.poll(first)
    engine.close()


def test_the_local_engine_keeps_results_as_long_as_query_states_live():
    engine = query_engine(Settings(QUERY_ENGINE='duckdb', QUERY_STATE_TTL_SECONDS=123))
    assert engine.result_retention_seconds == 123
