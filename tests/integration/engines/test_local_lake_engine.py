"""The local stack's engine: DuckDB over the lake bucket of the local endpoint, read through pyarrow's S3
filesystem, on files the stream writer wrote there."""

import base64
import copy
import json

import pytest

from functions.write_events.app import lambda_handler as writer_handler
from local.lake_engine import LocalLakeDuckDBEngine
from local.template import REGION
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
