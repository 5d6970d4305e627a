"""Kinesis producer: PutRecords in chunks within the service limits, retrying only the failed entries."""

from collections.abc import Sequence
from dataclasses import dataclass

from serverless_analytics.adapters.clients import client, pause_before_retry
from serverless_analytics.observability import logger

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024  # the older, stricter documented limit; safe on every region


@dataclass(frozen=True)
class StreamRecord:
    data: bytes
    partition_key: str


def _chunks(records: Sequence[StreamRecord]) -> list[list[int]]:
    """Indices of `records` grouped into PutRecords calls that respect the count and size limits."""
    chunks: list[list[int]] = [[]]
    size = 0
    for index, record in enumerate(records):
        record_size = len(record.data) + len(record.partition_key.encode())
        if chunks[-1] and (len(chunks[-1]) == MAX_RECORDS_PER_CALL or size + record_size > MAX_BYTES_PER_CALL):
            chunks.append([])
            size = 0
        chunks[-1].append(index)
        size += record_size
    return [chunk for chunk in chunks if chunk]


# Errors of the request itself: sending it again cannot succeed.
_PERMANENT_ERRORS = frozenset({'InvalidArgumentException', 'ValidationException', 'ResourceNotFoundException'})


class _PermanentFailure(Exception):
    pass


def _put_once(stream_name: str, records: Sequence[StreamRecord], indices: list[int]) -> list[int]:
    """One PutRecords call; returns the indices whose entries failed (throttled or internal error)."""
    from botocore.exceptions import BotoCoreError, ClientError  # loaded with the client, not at import (clients)

    try:
        response = client('kinesis').put_records(
            StreamName=stream_name,
            Records=[{'Data': records[i].data, 'PartitionKey': records[i].partition_key} for i in indices],
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning('PutRecords call failed', extra={'error': str(error), 'records': len(indices)})
        if isinstance(error, ClientError) and error.response['Error']['Code'] in _PERMANENT_ERRORS:
            raise _PermanentFailure from error
        return indices
    if not response.get('FailedRecordCount'):
        return []
    return [index for index, entry in zip(indices, response['Records'], strict=True) if 'ErrorCode' in entry]


def put_records(stream_name: str, records: Sequence[StreamRecord], attempts: int, backoff_seconds: float) -> list[int]:
    """Put every record; returns the indices that still failed after `attempts` tries (empty on success)."""
    failed: list[int] = []
    for chunk in _chunks(records):
        pending = chunk
        for attempt in range(attempts):
            if attempt:
                pause_before_retry(attempt, backoff_seconds)
            try:
                pending = _put_once(stream_name, records, pending)
            except _PermanentFailure:
                break
            if not pending:
                break
        failed.extend(pending)
    return failed


def describe_stream(stream_name: str) -> str:
    """The stream's status (ACTIVE, UPDATING, ...); raises ClientError when it does not exist."""
    return client('kinesis').describe_stream_summary(StreamName=stream_name)['StreamDescriptionSummary']['StreamStatus']
