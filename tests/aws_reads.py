"""Reading back what landed, the same way for the integration tests (moto) and the e2e tests (local stack)."""

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def stream_records(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every record on the stream, shard by shard, oldest first."""
    records = []
    for shard in kinesis.list_shards(StreamName=stream)['Shards']:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard['ShardId'], ShardIteratorType='TRIM_HORIZON'
        )['ShardIterator']
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            records += page['Records']
            iterator = page.get('NextShardIterator') if page['Records'] else None
    return records


def object_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item['Key'] for page in pages for item in page.get('Contents', []))


def parquet_rows(s3: Any, bucket: str, prefix: str, keys: list[str] | None = None) -> pa.Table | None:
    """Every Parquet row under the prefix (or of the `keys` already listed there), read back from the bytes in
    the bucket (None when there is none)."""
    keys = object_keys(s3, bucket, prefix) if keys is None else keys
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)['Body'].read())) for key in keys]
    return pa.concat_tables(tables) if tables else None


def scan_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, in DynamoDB's own JSON."""
    pages = dynamodb.get_paginator('scan').paginate(TableName=table)
    return [item for page in pages for item in page['Items']]


def counters(dynamodb: Any, table: str, project_id: str) -> dict[str, dict[str, Any]]:
    """A project's counter items by counter name, numbers as ints."""
    pages = dynamodb.get_paginator('query').paginate(
        TableName=table,
        KeyConditionExpression='project_id = :p',
        ExpressionAttributeValues={':p': {'S': project_id}},
        ConsistentRead=True,
    )
    return {
        item['counter']['S']: {name: int(value['N']) if 'N' in value else value['S'] for name, value in item.items()}
        for page in pages
        for item in page['Items']
    }


def user_items(dynamodb: Any, table: str, project_id: str) -> dict[str, dict[str, Any]]:
    """A project's items of the users table (entries, status history, deletions) by sort key, as plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    pages = dynamodb.get_paginator('query').paginate(
        TableName=table,
        KeyConditionExpression='pk = :p',
        ExpressionAttributeValues={':p': {'S': project_id}},
        ConsistentRead=True,
    )
    items = [{name: deserialize(value) for name, value in item.items()} for page in pages for item in page['Items']]
    return {item['sk']: item for item in items}
