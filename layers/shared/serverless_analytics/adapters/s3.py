"""S3 access: lake files and quarantined records."""

from collections.abc import Mapping

from botocore.exceptions import BotoCoreError, ClientError

from serverless_analytics.adapters.clients import client
from serverless_analytics.models.errors import ServiceUnavailableError


def put_object(bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
    try:
        client('s3').put_object(Bucket=bucket, Key=key, Body=body, Metadata=dict(metadata or {}))
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailableError(f'S3 put of {key} failed: {error}') from error


def head_bucket(bucket: str) -> None:
    """Raises ClientError when the bucket is missing or not reachable."""
    client('s3').head_bucket(Bucket=bucket)
