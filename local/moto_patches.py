"""Places where moto differs from AWS in ways the stream writer, or a long-running local stack, notices.

Kinesis sequence numbers: moto numbers each shard's records 1, 2, 3..., so two shards hand out the same
numbers; Kinesis's are 56-digit numbers that differ between shards. Here each shard counts from its own
56-digit base, the way they look in AWS.

Kinesis retention: moto keeps every record for ever, and reads each shard from its first record on every
GetRecords, so a stack left running grew by every event ever sent and its poller slowed with it. Here records
older than the stream's retention period are dropped as they are in AWS, whenever a record is added.

DynamoDB transactions: moto backs up a table by deep-copying all of it once per item of every TransactWriteItems call, so a
100-item transaction on a table of N items costs 100·N copies: the stream writer's transactions slow down
quadratically as the local events table fills (minutes for the demo data). This keeps moto's own
implementation and its results, and only swaps the rollback to a snapshot of the items the transaction
touches.
"""

import contextlib
import copy
import time
from collections.abc import Iterator
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.kinesis.models import Record, Shard, Stream

_ORIGINAL = DynamoDBBackend.transact_write_items
_ORIGINAL_STREAM_PUT = Stream.put_record
ItemSnapshot = tuple[str, dict[str, Any], dict[str, Any] | None]


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto's DynamoDB models: tables are 'copied' by reference."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@contextlib.contextmanager
def _tables_not_copied() -> Iterator[None]:
    dynamodb_models.copy = _CopyWithoutTables()
    try:
        yield
    finally:
        dynamodb_models.copy = copy


def _target_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != 'Put':
        return op['Key']
    table = backend.get_table(op['TableName'])
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: op['Item'][name] for name in names if name in op['Item']}


def _snapshot(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[ItemSnapshot]:
    snapshots = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        if op_type not in ('Put', 'Update', 'Delete'):
            continue
        try:
            key = _target_key(backend, op_type, op)
            current = backend.get_item(op['TableName'], key)
        except Exception:  # noqa: BLE001 - moto's own call reports the invalid request
            continue
        attributes = copy.deepcopy(current.to_json()['Attributes']) if current else None
        snapshots.append((op['TableName'], key, attributes))
    return snapshots


def _restore(backend: DynamoDBBackend, snapshots: list[ItemSnapshot]) -> None:
    for table_name, key, attributes in reversed(snapshots):
        if attributes is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    # No lock of its own around the swap and the rollback: every request reaches moto through
    # local.faults.AwsFrontend, one at a time in the process.
    snapshots = _snapshot(self, transact_items)
    try:
        with _tables_not_copied():
            _ORIGINAL(self, transact_items)
    except Exception:
        _restore(self, snapshots)
        raise


def _first_sequence(shard: Shard) -> int:
    """A 56-digit number unique to the shard, like '49590338271490256608559692538361571095921575989136588898'."""
    return int(f'4959{shard._shard_id:012d}{0:040d}') + 1


def _put_record(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
    # The tip read from the end of the ordered records: moto's get_max_sequence_number copies every key.
    sequence = next(reversed(self.records)) + 1 if self.records else _first_sequence(self)
    self.records[sequence] = Record(partition_key, data, sequence, explicit_hash_key)
    return str(sequence)


def _put_record_within_retention(
    self: Stream, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    sequence, shard_id = _ORIGINAL_STREAM_PUT(self, partition_key, explicit_hash_key, data)
    _drop_expired(self.shards[shard_id], self.retention_period_hours)
    return sequence, shard_id


def _drop_expired(shard: Shard, retention_hours: int) -> None:
    oldest_kept = time.time() - retention_hours * 3600
    while shard.records and next(iter(shard.records.values())).created_at < oldest_kept:
        del shard.records[next(iter(shard.records))]


def install() -> None:
    DynamoDBBackend.transact_write_items = _transact_write_items
    Shard.put_record = _put_record
    Stream.put_record = _put_record_within_retention
