"""Normalisation details, granularities, partition bounds, blending/ungrouped, resumed loads, Trino SQL."""

from datetime import UTC, datetime

import pytest

from serverless_analytics.cube import Target, compile_request, dry_run, load, plan_load, run_plan
from serverless_analytics.engines import QueryEngine
from serverless_analytics.models.errors import ContinueWait, CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW


def _echo(query: dict) -> dict:
    return dry_run(query, now=NOW)['normalizedQueries'][0]


def test_three_part_dimension_moves_to_time_dimensions():
    echo = _echo({'dimensions': ['TrackedEvents.pageUrl', 'TrackedEvents.derivedTstamp.month'], 'limit': 20})
    assert echo['dimensions'] == ['TrackedEvents.pageUrl']
    assert echo['timeDimensions'] == [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'month'}]
    assert (echo['limit'], echo['rowLimit']) == (20, 20)


@pytest.mark.parametrize(
    ('query', 'message'),
    [
        ('undefined', 'Query param is required'),
        ('{bad json', 'Unable to decode query param as JSON, error: '),
        ({'measures': 'TrackedEvents.count'}, 'Invalid query format: "measures" must be an array'),
        ({'dimensions': ['TrackedEvents.x.quarter']}, "'x' not found for path 'TrackedEvents.x'"),
        ({'dimensions': ['TrackedEvents.x.y.z']}, 'Invalid query format: "dimensions[0]" with value'),
        ({'measures': ['TrackedEvents.count'], 'limit': -1}, 'Invalid query format: "limit" must be greater than'),
        ({'measures': ['TrackedEvents.count'], 'limit': '5'}, 'Invalid query format: "limit" must be a number'),
        (
            {'measures': ['TrackedEvents.count'], 'timeDimensions': [{'granularity': 'day'}]},
            'Invalid query format: "timeDimensions[0].dimension" is required',
        ),
        (
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'fortnight'}],
            },
            'Granularity "fortnight" does not exist in dimension TrackedEvents.derivedTstamp',
        ),
        (
            {'measures': ['TrackedEvents.count'], 'order': [['TrackedEvents.count']]},
            'Invalid query format: "order[0]" must contain at least 2 items',
        ),
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


class _SlowEngine(QueryEngine):
    """Wraps the DuckDB engine and reports "running" for the first polls of each execution."""

    def __init__(self, inner, running_polls):
        self.inner, self.running_polls, self.polls = inner, running_polls, {}
        self.dialect, self.db_type, self.lake_source = inner.dialect, inner.db_type, inner.lake_source
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
    assert raised.value.cache_key == plan.cache_key
    slow.running_polls = 0
    body = run_plan(plan, slow, execution_ids=raised.value.execution_ids, wait_seconds=5)
    assert body['results'][0]['data'] == [{'TrackedEvents.count': '6'}]
    assert slow.started == 1


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
