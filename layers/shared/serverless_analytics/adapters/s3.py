"""S3 access: lake files and quarantined records."""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from serverless_analytics.adapters.clients import answering_unavailable, client
from serverless_analytics.models.errors import ServiceUnavailableError

MAX_DELETE_KEYS = 1000  # DeleteObjects takes at most this many keys per call


class StoredObject(NamedTuple):
    key: str
    size: int


def put_object(bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
    with answering_unavailable(f'S3 put of {key}'):
        client('s3').put_object(Bucket=bucket, Key=key, Body=body, Metadata=dict(metadata or {}))


def get_object(bucket: str, key: str) -> bytes:
    with answering_unavailable(f'S3 get of {key}'):
        return client('s3').get_object(Bucket=bucket, Key=key)['Body'].read()


def get_object_if_any(bucket: str, key: str) -> bytes | None:
    """The object, or None when there is none (S3 says so only to a caller allowed to list the bucket; to others a
    missing key is AccessDenied, which fails as any other error)."""
    from botocore.exceptions import ClientError  # loaded with the client, not at import

    with answering_unavailable(f'S3 get of {key}'):
        try:
            return client('s3').get_object(Bucket=bucket, Key=key)['Body'].read()
        except ClientError as error:
            if error.response['Error']['Code'] == 'NoSuchKey':
                return None
            raise


def get_range(bucket: str, key: str, start: int, length: int) -> bytes:
    """`length` bytes of the object from `start` (fewer at its end)."""
    with answering_unavailable(f'S3 get of {key}'):
        answer = client('s3').get_object(Bucket=bucket, Key=key, Range=f'bytes={start}-{start + length - 1}')
        return answer['Body'].read()


def list_objects(bucket: str, prefix: str) -> list[StoredObject]:
    """Every object under the prefix, in key order."""
    with answering_unavailable(f'S3 list of {prefix}'):
        pages = client('s3').get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix)
        return [StoredObject(item['Key'], item['Size']) for page in pages for item in page.get('Contents', [])]


def delete_objects(bucket: str, keys: Sequence[str]) -> None:
    """Delete the keys (a missing key is not an error); raises ServiceUnavailableError if any was not deleted."""
    for start in range(0, len(keys), MAX_DELETE_KEYS):
        chunk = keys[start : start + MAX_DELETE_KEYS]
        with answering_unavailable(f'S3 delete of {len(chunk)} objects'):
            answer = client('s3').delete_objects(
                Bucket=bucket, Delete={'Objects': [{'Key': key} for key in chunk], 'Quiet': True}
            )
        if answer.get('Errors'):
            first = answer['Errors'][0]
            raise ServiceUnavailableError(
                f'S3 delete failed for {len(answer["Errors"])} objects, e.g. {first["Key"]}: {first.get("Code")}'
            )


def head_bucket(bucket: str) -> None:
    """Raises ClientError when the bucket is missing or not reachable."""
    client('s3').head_bucket(Bucket=bucket)
