"""S3 access: lake files and quarantined records."""

from collections.abc import Mapping

from serverless_analytics.adapters.clients import answering_unavailable, client


def put_object(bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
    with answering_unavailable(f'S3 put of {key}'):
        client('s3').put_object(Bucket=bucket, Key=key, Body=body, Metadata=dict(metadata or {}))


def head_bucket(bucket: str) -> None:
    """Raises ClientError when the bucket is missing or not reachable."""
    client('s3').head_bucket(Bucket=bucket)
