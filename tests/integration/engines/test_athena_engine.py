"""The production engine, Athena, against moto's Athena (which runs nothing, but answers with results
configured through its `/moto-api/static/athena/query-results` endpoint, shaped as Athena returns them)."""

from datetime import UTC, datetime

import requests

from functions.load_query.app import lambda_handler
from serverless_analytics.cube import load
from serverless_analytics.engines import AthenaEngine
from serverless_analytics.engines.base import PollSchedule
from tests.conftest import load_event
from tests.integration.conftest import invoke

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
DAILY_COUNT = {
    'measures': ['TrackedEvents.count'],
    'timeDimensions': [
        {'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day', 'dateRange': ['2026-11-01', '2026-11-02']}
    ],
}


def _queue_athena_result(aws, header: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """The next GetQueryResults answer: Athena's header row first, then the data rows, all as text."""
    text_rows = [[name for name, _ in header], *rows]
    result = {
        'rows': [{'Data': [{} if v is None else {'VarCharValue': v} for v in row]} for row in text_rows],
        'column_info': [
            {
                'CatalogName': 'hive',
                'SchemaName': '',
                'TableName': '',
                'Name': n,
                'Label': n,
                'Type': t,
                'Precision': 0,
                'Scale': 0,
                'Nullable': 'UNKNOWN',
                'CaseSensitive': False,
            }
            for n, t in header
        ],
    }
    response = requests.post(
        f'{aws.endpoint}/moto-api/static/athena/query-results', json={'results': [result]}, timeout=10
    )
    assert response.status_code == 201


def _engine(aws) -> AthenaEngine:
    # moto finishes an execution as it starts it: poll at once (Athena's own schedule waits 0.4 s first).
    at_once = PollSchedule.doubling(0.01, 2.0)
    return AthenaEngine(aws.name('AthenaWorkGroup'), aws.name('GlueDatabase'), poll_schedule=at_once)


def test_athena_rows_become_cubes_wire_format(aws):
    _queue_athena_result(
        aws,
        [('day', 'timestamp(3)'), ('count', 'bigint')],
        [['2026-11-01 00:00:00.000', '12'], ['2026-11-02 00:00:00.000', '7']],
    )

    body = load(DAILY_COUNT, '1', _engine(aws), now=NOW, query_type='multi')

    assert body['results'][0]['data'] == [
        {
            'TrackedEvents.derivedTstamp.day': '2026-11-01T00:00:00.000',
            'TrackedEvents.derivedTstamp': '2026-11-01T00:00:00.000',
            'TrackedEvents.count': '12',
        },
        {
            'TrackedEvents.derivedTstamp.day': '2026-11-02T00:00:00.000',
            'TrackedEvents.derivedTstamp': '2026-11-02T00:00:00.000',
            'TrackedEvents.count': '7',
        },
    ]
    assert body['results'][0]['dbType'] == 'athena'


def test_queries_run_in_the_workgroup_on_the_projects_partitions_only(aws):
    _queue_athena_result(aws, [('day', 'timestamp(3)'), ('count', 'bigint')], [])
    athena = aws.client('athena')

    load(DAILY_COUNT, '1', _engine(aws), now=NOW, query_type='multi')

    [execution_id] = athena.list_query_executions(WorkGroup=aws.name('AthenaWorkGroup'))['QueryExecutionIds']
    execution = athena.get_query_execution(QueryExecutionId=execution_id)['QueryExecution']
    assert execution['WorkGroup'] == aws.name('AthenaWorkGroup')
    assert execution['QueryExecutionContext']['Database'] == aws.name('GlueDatabase')
    sql = execution['Query']
    assert "project_id = '1'" in sql
    assert "dt >= '2026-11-01'" in sql and "dt <= '2026-11-02'" in sql


def test_nulls_and_typed_cells_convert(aws):
    _queue_athena_result(aws, [('name', 'varchar'), ('count', 'bigint')], [['signup', '3'], [None, '2']])
    query = {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.eventName']}

    body = load(query, '1', _engine(aws), now=NOW, query_type='multi')

    assert body['results'][0]['data'] == [
        {'TrackedEvents.eventName': 'signup', 'TrackedEvents.count': '3'},
        {'TrackedEvents.eventName': None, 'TrackedEvents.count': '2'},
    ]


def test_the_load_function_as_deployed_uses_athena(aws, lambda_context, override_settings):
    # Given: the function's production configuration (template.yaml says QUERY_ENGINE=athena)
    override_settings(QUERY_ENGINE='athena')
    _queue_athena_result(aws, [('name', 'varchar'), ('count', 'bigint')], [['page_view', '41']])

    status, body = invoke(lambda_handler, load_event('load_query_cube'), lambda_context)

    assert status == 200
    assert body['results'][0]['data'] == [{'TrackedEvents.eventName': 'page_view', 'TrackedEvents.count': '41'}]
    # ...and the query Athena ran is the sample's, with its limit
    athena = aws.client('athena')
    [execution_id] = athena.list_query_executions(WorkGroup=aws.name('AthenaWorkGroup'))['QueryExecutionIds']
    sql = athena.get_query_execution(QueryExecutionId=execution_id)['QueryExecution']['Query']
    assert sql.rstrip().endswith('LIMIT 10')
    assert "project_id = '1'" in sql
