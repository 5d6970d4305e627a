"""The Athena engine's own logic: polling to a final state, failures, and results typed by Athena's column types
(botocore's Stubber answering as Athena would, under the Athena adapter)."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from serverless_analytics.adapters import athena
from serverless_analytics.engines import AthenaEngine, AthenaQueryError, QueryResult, ResultColumn
from serverless_analytics.engines.athena_engine import convert_value
from serverless_analytics.engines.base import PollSchedule

COLUMNS = [
    {'Name': 'd', 'Type': 'timestamp'},
    {'Name': 'n', 'Type': 'bigint'},
    {'Name': 'x', 'Type': 'decimal(10,2)'},
    {'Name': 's', 'Type': 'varchar'},
]


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client('athena', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    monkeypatch.setattr(athena, 'client', lambda service, **_: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


# Stubbed answers need no waiting: every poll at once (the real schedule is tested in test_wait_for).
NO_WAIT = PollSchedule(first_poll=0, fraction=0, slack=0)


def _engine() -> AthenaEngine:
    return AthenaEngine('primary', 'analytics', reuse_minutes=30, poll_schedule=NO_WAIT)


def _state(stubber: Stubber, state: str, reason: str | None = None) -> None:
    status = {'State': state, **({'StateChangeReason': reason} if reason else {})}
    stubber.add_response('get_query_execution', {'QueryExecution': {'Status': status}})


def _row(*cells: str | None) -> dict:
    return {'Data': [{} if cell is None else {'VarCharValue': cell} for cell in cells]}


def _two_pages(stubber: Stubber) -> None:
    header = _row('d', 'n', 'x', 's')
    first = {'Rows': [header, _row('2024-05-13 00:00:00.000', '3', '1.50', None)]}
    stubber.add_response(
        'get_query_results', {'ResultSet': {**first, 'ResultSetMetadata': {'ColumnInfo': COLUMNS}}, 'NextToken': 't2'}
    )
    stubber.add_response('get_query_results', {'ResultSet': {'Rows': [_row(None, '4', '2', 'a')]}})


def test_a_query_runs_in_the_engines_workgroup_and_database(stubbed):
    stubbed.add_response(
        'start_query_execution',
        {'QueryExecutionId': 'q-1'},
        {
            'QueryString': 'SELECT 1',
            'WorkGroup': 'primary',
            'QueryExecutionContext': {'Database': 'analytics', 'Catalog': 'AwsDataCatalog'},
            'ResultReuseConfiguration': {'ResultReuseByAgeConfiguration': {'Enabled': True, 'MaxAgeInMinutes': 30}},
        },
    )

    assert _engine().start('SELECT 1') == 'q-1'


@pytest.mark.parametrize('state', ['QUEUED', 'RUNNING'])
def test_an_execution_not_yet_finished_has_no_result(stubbed, state):
    _state(stubbed, state)

    assert _engine().poll('q-1') is None


def test_a_finished_execution_answers_its_rows_of_every_page_typed(stubbed):
    _state(stubbed, 'SUCCEEDED')
    _two_pages(stubbed)

    result = _engine().poll('q-1')

    assert result == QueryResult(
        [
            ResultColumn('d', 'timestamp'),
            ResultColumn('n', 'bigint'),
            ResultColumn('x', 'decimal(10,2)'),
            ResultColumn('s', 'varchar'),
        ],
        [(datetime(2024, 5, 13), 3, Decimal('1.50'), None), (None, 4, Decimal('2'), 'a')],
    )


def test_execute_polls_until_the_execution_has_finished(stubbed):
    stubbed.add_response('start_query_execution', {'QueryExecutionId': 'q-1'})
    _state(stubbed, 'QUEUED')
    _state(stubbed, 'RUNNING')
    _state(stubbed, 'SUCCEEDED')
    _two_pages(stubbed)

    assert len(_engine().execute('SELECT 1').rows) == 2


def test_a_failed_execution_raises_athenas_reason(stubbed):
    _state(stubbed, 'FAILED', 'SYNTAX_ERROR: line 1:8: Column x cannot be resolved')

    with pytest.raises(AthenaQueryError, match='SYNTAX_ERROR: line 1:8'):
        _engine().poll('q-1')


def test_a_cancelled_execution_without_a_reason_says_so(stubbed):
    _state(stubbed, 'CANCELLED')

    with pytest.raises(AthenaQueryError, match='Query q-1 CANCELLED'):
        _engine().poll('q-1')


def test_the_lake_source_is_the_quoted_events_table():
    assert AthenaEngine('w', 'analytics').lake_source == '"analytics"."events"'
    assert AthenaEngine('w', 'a"b', 'my"events').lake_source == '"ab"."myevents"'


def test_every_projects_user_session_index_is_the_quoted_glue_table():
    assert AthenaEngine('w', 'analytics').user_sessions_source('1') == '"analytics"."user_sessions"'
    named = AthenaEngine('w', 'a"b', user_sessions_table='my"index')
    assert [named.user_sessions_source(p) for p in ('1', '2')] == ['"ab"."myindex"'] * 2


@pytest.mark.parametrize(
    ('text', 'athena_type', 'value'),
    [
        (None, 'bigint', None),
        ('7', 'integer', 7),
        ('2.5', 'double', 2.5),
        ('1.50', 'decimal(10,2)', Decimal('1.50')),
        ('true', 'boolean', True),
        ('FALSE', 'boolean', False),
        ('2024-05-13', 'date', date(2024, 5, 13)),
        ('2024-05-13 10:00:00.123', 'timestamp(3)', datetime(2024, 5, 13, 10, 0, 0, 123000)),
        (
            '2024-05-13 10:00:00.1234567 UTC',
            'timestamp(3) with time zone',
            datetime(2024, 5, 13, 10, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            '2024-05-13 10:00:00.000 +02:00',
            'timestamp with time zone',
            datetime(2024, 5, 13, 10, tzinfo=timezone(timedelta(hours=2))),
        ),
        ('{"a": 1}', 'json', '{"a": 1}'),
    ],
)
def test_cells_convert_by_their_column_type(text, athena_type, value):
    assert convert_value(text, athena_type) == value
