"""Looking at what landed in the local stack: lake rows, counters, quarantined records."""

import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from local.stack import LocalStack

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
    """Every Parquet row under events/project_id=<project>/, read back from the bytes in the bucket."""
    s3 = stack.client('s3')
    bucket = stack.name_of('LakeBucket')
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=f'events/project_id={project_id}/')
    keys = [item['Key'] for page in pages for item in page.get('Contents', [])]
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)['Body'].read())) for key in keys]
    return pa.concat_tables(tables) if tables else None


def lake_keys(stack: LocalStack, prefix: str) -> list[str]:
    s3 = stack.client('s3')
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=stack.name_of('LakeBucket'), Prefix=prefix)
    return sorted(item['Key'] for page in pages for item in page.get('Contents', []))


def counter(stack: LocalStack, project_id: str, name: str) -> dict[str, Any]:
    item = (
        stack.client('dynamodb')
        .get_item(
            TableName=stack.name_of('CountersTable'),
            Key={'project_id': {'S': project_id}, 'counter': {'S': name}},
            ConsistentRead=True,
        )
        .get('Item', {})
    )
    return {attribute: int(value['N']) if 'N' in value else value.get('S') for attribute, value in item.items()}
