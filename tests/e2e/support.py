"""Looking at what landed in the local stack: lake rows, counters, quarantined records."""

import uuid
from typing import Any

import pyarrow as pa
import requests

from local.stack import LocalStack
from tests import aws_reads

TRACK = '/api/v1/analytics'
BATCH = '/api/v1/analytics/batch'
STATS = '/api/v1/analytics/stats'
HEALTH = '/api/v1/analytics/health'


def bearer(key: str) -> dict[str, str]:
    return {'Authorization': f'Bearer {key}'}


def new_project(scopes: list[str] | None = None) -> tuple[str, str]:
    """A fresh project with its own key, so each test counts only its own events."""
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import create_key
    from serverless_analytics.models.api_key import Scope

    project_id = f'p{uuid.uuid4().hex[:10]}'
    key, _ = create_key(get_settings(), project_id, [Scope(s) for s in scopes or ['ingest', 'read']], 'e2e')
    return project_id, key


def post_batch(stack: LocalStack, key: str, events: list[dict[str, Any]]) -> requests.Response:
    return requests.post(stack.url + BATCH, json={'events': events}, headers=bearer(key), timeout=30)


def stats(stack: LocalStack, key: str) -> dict[str, Any]:
    response = requests.get(stack.url + STATS, headers=bearer(key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def lake_rows(stack: LocalStack, project_id: str) -> pa.Table | None:
    """Every Parquet row under events/project_id=<project>/."""
    return aws_reads.parquet_rows(stack.client('s3'), stack.name_of('LakeBucket'), f'events/project_id={project_id}/')


def lake_keys(stack: LocalStack, prefix: str, bucket: str = 'LakeBucket') -> list[str]:
    return aws_reads.object_keys(stack.client('s3'), stack.name_of(bucket), prefix)


def kinesis_records(stack: LocalStack) -> list[dict[str, Any]]:
    return aws_reads.stream_records(stack.client('kinesis'), stack.name_of('EventsStream'))


def counters(stack: LocalStack, project_id: str) -> dict[str, dict[str, Any]]:
    return aws_reads.counters(stack.client('dynamodb'), stack.name_of('CountersTable'), project_id)
