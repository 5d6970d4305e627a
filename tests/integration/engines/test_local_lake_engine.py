"""The local stack's engine: DuckDB over the lake bucket of the local endpoint, read through pyarrow's S3
filesystem, on files the stream writer wrote there, and on the usage rollup's user-session index."""

import base64
import copy
import io
import json
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from functions.write_events.app import lambda_handler as writer_handler
from local.lake_engine import LocalLakeDuckDBEngine
from local.template import REGION
from serverless_analytics.cube import load
from serverless_analytics.logic.user_sessions import SCHEMA, user_sessions_key
from tests.conftest import load_event


@pytest.fixture
def engine(aws):
    engine = LocalLakeDuckDBEngine(aws.name('LakeBucket'), 'events', aws.endpoint, REGION, result_retention_seconds=60)
    yield engine
    engine.close()


def _written(aws, lambda_context, event: dict) -> list[dict]:
    assert writer_handler(event, lambda_context) == {'batchItemFailures': []}
    return [json.loads(base64.b64decode(r['kinesis']['data'])) for r in event['Records']]


def _in_project(event: dict, project_id: str) -> dict:
    """The sample trigger's records moved to another project (event ids kept: they are per project)."""
    moved = copy.deepcopy(event)
    for record in moved['Records']:
        body = {**json.loads(base64.b64decode(record['kinesis']['data'])), 'project_id': project_id}
        record['kinesis']['data'] = base64.b64encode(json.dumps(body).encode()).decode()
        record['kinesis']['partitionKey'] = f'{project_id}:{body["session_id"]}'
        record['kinesis']['sequenceNumber'] += '1'
    return moved


def test_the_writers_rows_read_back_with_their_partitions(aws, lambda_context, engine):
    sent = _written(aws, lambda_context, load_event('write_events'))

    result = engine.execute(f'SELECT event_id, name, project_id, dt FROM {engine.lake_source} ORDER BY event_id')

    assert result.rows == sorted((e['event_id'], e['name'], '1', e['timestamp'][:10]) for e in sent)


def test_files_written_after_a_query_are_seen_by_the_next(aws, lambda_context, engine):
    count = f"SELECT count(*) FROM {engine.lake_source} WHERE project_id = '2'"
    assert engine.execute(count).rows == [(0,)]

    sent = _written(aws, lambda_context, _in_project(load_event('write_events'), '2'))

    assert engine.execute(count).rows == [(len(sent),)]


def _put_index(aws, project_id: str, day: str, pairs: list[tuple[str | None, str | None, datetime]]) -> None:
    """A day's user-session index object, as the usage rollup writes it."""
    rows = {name: list(column) for name, column in zip(SCHEMA.names, zip(*pairs, strict=True), strict=True)}
    buffer = io.BytesIO()
    pq.write_table(pa.table(rows, schema=SCHEMA), buffer)
    key = user_sessions_key('usage', project_id, date.fromisoformat(day))
    aws.client('s3').put_object(Bucket=aws.name('LakeBucket'), Key=key, Body=buffer.getvalue())


NINE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_projects_user_session_index_is_a_source_once_the_rollup_wrote_one_of_its_days(aws, engine):
    assert engine.user_sessions_source('1') is None
    assert engine.execute(f'SELECT count(*) FROM {engine.USER_SESSIONS_VIEW}').rows == [(0,)]

    _put_index(aws, '1', '2026-11-20', [('s1', 'u1', NINE), ('s1', None, NINE), (None, 'u2', NINE)])
    _put_index(aws, '1', '2026-11-25', [('s2', 'u1', NINE + timedelta(days=5))])
    _put_index(aws, '2', '2026-11-20', [('s9', 'u9', NINE)])

    source = engine.user_sessions_source('1')
    assert source == engine.USER_SESSIONS_VIEW
    assert engine.user_sessions_source('3') is None
    rows = engine.execute(
        f'SELECT project_id, session_id, user_id, first_at FROM {source} ORDER BY project_id, first_at, session_id'
    ).rows
    assert [row[:3] for row in rows] == [
        ('1', 's1', 'u1'),
        ('1', 's1', None),
        ('1', None, 'u2'),
        ('1', 's2', 'u1'),
        ('2', 's9', 'u9'),
    ]
    assert [row[3] for row in rows] == [NINE, NINE, NINE, NINE + timedelta(days=5), NINE]


def test_returning_users_of_a_range_count_the_sessions_the_index_has_after_it_and_no_other_projects(aws, engine):
    # u1 is first seen in the range, with a second session after it; in project 2 the same id has two more
    _put_index(aws, '1', '2026-11-20', [('s1', 'u1', NINE), ('s1', None, NINE), ('s3', 'u3', NINE)])
    _put_index(aws, '1', '2026-11-25', [('s2', 'u1', NINE + timedelta(days=5))])
    _put_index(aws, '2', '2026-11-20', [('x1', 'u1', NINE), ('x2', 'u1', NINE), ('x3', 'u3', NINE)])
    query = {
        'measures': ['ReturningUsers.count', 'ReturningUsers.returningUsersCount', 'ReturningUsers.allSessionsCount'],
        'timeDimensions': [{'dimension': 'ReturningUsers.first_timestamp', 'dateRange': ['2026-11-20', '2026-11-21']}],
    }

    [row] = load(query, '1', engine, now=NINE + timedelta(days=10))['data']

    assert row == {
        'ReturningUsers.count': '2',
        'ReturningUsers.returningUsersCount': '1',
        'ReturningUsers.allSessionsCount': '2',
    }
