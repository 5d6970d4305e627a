"""The stream writer: Kinesis batch -> Parquet lake files + DynamoDB event ids and counters. (The user directory
has a consumer of the stream of its own: logic.update_user_directory.)

Delivery is at-least-once, and a partial-batch failure re-delivers records that already succeeded, so
every step is idempotent:
- a record whose event id was written by that same record before (a redelivery) is neither counted nor
  written to the lake again: its DynamoDB item is only written after the lake file holding it was;
- a record whose event id was written by another record (a client retry) is counted as a duplicate, once,
  and never reaches the lake;
- a malformed record, or one with a field the event schema does not know (lake.records says why), is
  quarantined with its raw bytes and counted, once.
The lake file is written before DynamoDB, so a crash or a DynamoDB failure in between can leave an extra
lake row (the records are redelivered and written again, under the same object key when the redelivered
batch holds the same records for that project and day, else in a new file, which lake compaction dedupes),
never an event counted but missing from the lake.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import pyarrow as pa

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb, s3
from serverless_analytics.config import Settings
from serverless_analytics.lake import records as lake
from serverless_analytics.logic import counters
from serverless_analytics.models.errors import ServiceUnavailableError
from serverless_analytics.models.stream import DeliveredRecord
from serverless_analytics.observability import logger

HOUR_COUNTER_DAYS = 3
DAY_COUNTER_DAYS = 400


class TimeKeys(NamedTuple):
    """Where an event hour goes: its lake partition and its counter items (shared by the rows of that hour)."""

    dt: str  # UTC day of the event time, the lake partition
    day_key: str
    hour_key: str

    @classmethod
    def of(cls, hour: datetime) -> 'TimeKeys':
        return cls(f'{hour:%Y-%m-%d}', counters.day_key(hour), counters.hour_key(hour))


class PlannedEvent(NamedTuple):
    """One good record of a project, with what the writer must do with it (a NamedTuple, made per record)."""

    record: DeliveredRecord
    row: int
    pk: str  # `<project>#<event_id>`, the event's key in the events table
    time: TimeKeys
    category: str
    action: str  # 'insert' (new event), 'replay' (already written by this record), 'duplicate'
    owner: str | None = None  # the record that had written the event when the batch was planned


def _expiry(now: datetime, days: int) -> int:
    return int((now + timedelta(days=days)).timestamp())


def _marker_pk(record: DeliveredRecord) -> str:
    return f'seq#{record.record_id}'


def _event_pk(project_id: str, event_id: str) -> str:
    return f'{project_id}#{event_id}'


def _project_of(record: DeliveredRecord) -> str:
    return record.partition_key.split(':', 1)[0]


class ProjectGroup(NamedTuple):
    """A project's good records of a batch: (row, record) pairs and the event keys they carry."""

    members: list[tuple[int, DeliveredRecord]]
    pks: list[str]


class PreparedBatch(NamedTuple):
    """A decoded batch, before anything is looked up or written."""

    decoded: lake.DecodedBatch
    columns: dict[str, list]
    file_rows: pa.Table  # the rows in the lake's file schema, made once per batch rather than per file
    projects: dict[str, ProjectGroup]


def prepare_batch(batch: Sequence[DeliveredRecord]) -> PreparedBatch:
    decoded = lake.decode([record.data for record in batch])
    columns = batch_columns(decoded.rows)
    projects = {
        project_id: ProjectGroup(members, [_event_pk(project_id, columns['event_id'][row]) for row, _ in members])
        for project_id, members in by_project(batch, decoded, columns).items()
    }
    return PreparedBatch(decoded, columns, lake.to_file_schema(decoded.rows), projects)


def write_batch(batch: Sequence[DeliveredRecord], settings: Settings, now: datetime | None = None) -> list[str]:
    """Write one Kinesis batch; returns the sequence numbers to report as failed (to be redelivered)."""
    now = now or clock.now()
    prepared = prepare_batch(batch)
    failed: list[str] = []
    for index, reason in prepared.decoded.bad.items():
        failed += _quarantine(batch[index], reason, settings, now)
    for project_id, group in prepared.projects.items():
        try:
            written_by = dynamodb.get_event_writers(settings.EVENTS_TABLE, group.pks)
            events = plan(group.members, group.pks, prepared.columns, written_by)
            _write_project(project_id, events, prepared.file_rows, settings, now)
        except ServiceUnavailableError:
            logger.exception('Writing a project group failed; it will be redelivered', extra={'project_id': project_id})
            failed += [record.sequence for _, record in group.members]
    return failed


def batch_columns(rows: pa.Table) -> dict[str, list]:
    """The per-row values the writer decides with, as Python lists made by Arrow column by column."""
    return {
        'event_id': lake.strings(rows['event_id']),
        'project_id': lake.per_row(rows['project_id']),
        'category': lake.per_row(rows['category']),
        'time': lake.per_row_hour(rows, TimeKeys.of),
    }


def by_project(
    batch: Sequence[DeliveredRecord], decoded: lake.DecodedBatch, columns: dict[str, list]
) -> dict[str, list[tuple[int, DeliveredRecord]]]:
    """(row, record) pairs of the good records, by project."""
    by_project: dict[str, list[tuple[int, DeliveredRecord]]] = defaultdict(list)
    for row, index in enumerate(decoded.good):
        by_project[columns['project_id'][row]].append((row, batch[index]))
    return by_project


def plan(
    members: list[tuple[int, DeliveredRecord]], pks: list[str], columns: dict[str, list], written_by: dict[str, str]
) -> list[PlannedEvent]:
    """Decide per record: a new event, a redelivery of the record that wrote it, or a duplicate of another
    (`written_by`: the record that wrote each event key already stored)."""
    times, categories = columns['time'], columns['category']
    if not written_by and len(set(pks)) == len(pks):  # nearly every batch: all new, none twice
        return [
            PlannedEvent(record, row, pk, times[row], categories[row], 'insert')
            for (row, record), pk in zip(members, pks, strict=True)
        ]
    seen: set[str] = set()
    planned = []
    for (row, record), pk in zip(members, pks, strict=True):
        owner = written_by.get(pk)
        if owner is not None:
            action = 'replay' if owner == record.record_id else 'duplicate'
        else:
            action = 'duplicate' if pk in seen else 'insert'
        seen.add(pk)
        planned.append(PlannedEvent(record, row, pk, times[row], categories[row], action, owner))
    return planned


def _write_project(
    project_id: str, events: list[PlannedEvent], rows: pa.Table, settings: Settings, now: datetime
) -> None:
    inserts = [e for e in events if e.action == 'insert']
    _write_lake_files(project_id, inserts, rows, settings)
    # After the lake files, so a rollup that sees the mark finds the rows: one write per day of the batch.
    dynamodb.mark_touched(settings.ROLLUP_STATE_TABLE, [(project_id, e.time.dt) for e in inserts], uuid.uuid4().hex)
    conflicts = _insert_events(project_id, inserts, settings, now)
    _count_duplicates(project_id, [e for e in events if e.action == 'duplicate'] + conflicts, settings, now)
    if inserts:
        # Once per batch, outside the transactions: a time, not a count, so it needs no atomicity with the events.
        flushed = dynamodb.CounterDelta(counters.PIPELINE, add={}, set={'last_flush': now.isoformat()})
        dynamodb.add_to_counters(settings.COUNTERS_TABLE, project_id, [flushed])


def _write_lake_files(project_id: str, events: list[PlannedEvent], rows: pa.Table, settings: Settings) -> None:
    for key, body in lake_files(settings.LAKE_PREFIX, project_id, events, rows):
        s3.put_object(settings.LAKE_BUCKET, key, body)


def lake_files(prefix: str, project_id: str, events: list[PlannedEvent], rows: pa.Table) -> list[tuple[str, bytes]]:
    """(object key, Parquet bytes) of one file per UTC day of the events."""
    by_date: dict[str, list[PlannedEvent]] = defaultdict(list)
    for event in events:
        by_date[event.time.dt].append(event)
    return [
        (
            lake.object_key(prefix, project_id, dt, [f'{e.record.shard_id}#{e.record.sequence}' for e in members]),
            lake.parquet_bytes(rows.take([e.row for e in members])),
        )
        for dt, members in sorted(by_date.items())
    ]


class CounterExpiries(NamedTuple):
    """When a day's and an hour's counter items expire (the same for every item a batch writes)."""

    day: int
    hour: int

    @classmethod
    def at(cls, now: datetime) -> 'CounterExpiries':
        return cls(_expiry(now, DAY_COUNTER_DAYS), _expiry(now, HOUR_COUNTER_DAYS))


def _deltas(events: Sequence[PlannedEvent], expiries: CounterExpiries) -> list[dynamodb.CounterDelta]:
    categories = Counter([event.category for event in events])
    days = Counter([event.time.day_key for event in events])
    hours = Counter([event.time.hour_key for event in events])
    return [
        dynamodb.CounterDelta(
            counters.TOTAL,
            add={'events': len(events), **{counters.CATEGORY_PREFIX + name: n for name, n in categories.items()}},
        ),
        *(dynamodb.CounterDelta(key, add={'events': n}, expires_at=expiries.day) for key, n in days.items()),
        *(dynamodb.CounterDelta(key, add={'events': n}, expires_at=expiries.hour) for key, n in hours.items()),
    ]


def _transaction_chunks(events: Sequence[PlannedEvent]) -> list[list[PlannedEvent]]:
    """Split events so that each chunk's puts plus its counter updates fit in one transaction.

    Events go in order of their hour, so a chunk touches one or two hour and day counters rather than every
    hour of the batch: a batch spread over a day took ~30 counter updates per transaction in record order, a
    third of the writer's CPU and of the transactions' write units. An hour's events are placed as a run (as many
    as the chunk has room for), not one by one: the same chunks, without a set lookup per event."""
    fixed_counters = 1  # the total
    chunks: list[list[PlannedEvent]] = []
    chunk: list[PlannedEvent] = []
    time_keys: set[str] = set()
    for hour in _by_hour(events):
        hour_keys = {hour[0].time.day_key, hour[0].time.hour_key}
        while hour:
            room = dynamodb.MAX_TRANSACTION_ITEMS - fixed_counters - len(time_keys | hour_keys) - len(chunk)
            if not chunk or room < 1:
                chunk, time_keys = [], set()
                chunks.append(chunk)
                room = dynamodb.MAX_TRANSACTION_ITEMS - fixed_counters - len(hour_keys)
            chunk += hour[:room]
            hour = hour[room:]
            time_keys |= hour_keys
    return chunks


def _by_hour(events: Sequence[PlannedEvent]) -> list[list[PlannedEvent]]:
    """The events of each hour, in record order, hours in order."""
    by_hour: dict[str, list[PlannedEvent]] = defaultdict(list)
    for event in events:
        by_hour[event.time.hour_key].append(event)
    return [by_hour[hour_key] for hour_key in sorted(by_hour)]


def _insert_events(
    project_id: str, events: list[PlannedEvent], settings: Settings, now: datetime
) -> list[PlannedEvent]:
    """Insert new events with their counts; returns events that turned out to exist (written concurrently)."""
    conflicts: list[PlannedEvent] = []
    expires_at = _expiry(now, settings.EVENT_ID_TTL_DAYS)
    expiries = CounterExpiries.at(now)
    for chunk in _transaction_chunks(events):
        while chunk:
            keys = [(e.pk, f'{e.record.shard_id}#{e.record.sequence}') for e in chunk]  # the record id, inlined
            existing = set(
                dynamodb.insert_events(
                    settings.EVENTS_TABLE,
                    settings.COUNTERS_TABLE,
                    project_id,
                    keys,
                    expires_at,
                    _deltas(chunk, expiries),
                )
            )
            if not existing:
                break
            conflicts += [chunk[i] for i in sorted(existing)]
            chunk = [event for i, event in enumerate(chunk) if i not in existing]
    return conflicts


def _count_duplicates(project_id: str, events: list[PlannedEvent], settings: Settings, now: datetime) -> None:
    markers = [dynamodb.Marker(_marker_pk(e.record), _writer_check(e)) for e in events]
    dynamodb.record_markers(
        settings.EVENTS_TABLE,
        settings.COUNTERS_TABLE,
        project_id,
        markers,
        _expiry(now, settings.EVENT_ID_TTL_DAYS),
        'duplicates',
        counters.PIPELINE,
    )


def _writer_check(event: PlannedEvent) -> tuple[str, str] | None:
    """What the duplicate's marker must check: that this record did not write the event after all.

    Not needed when another record had written it at planning time: an event item is written once, so its
    writer cannot change. Needed otherwise: a concurrent delivery of this same record may have written it."""
    if event.owner is not None:
        return None
    return event.pk, event.record.record_id


def _ascii(metadata: dict[str, str]) -> dict[str, str]:
    """S3 metadata must be ASCII; the raw record keeps the original bytes."""
    return {name: value.encode('ascii', 'replace').decode() for name, value in metadata.items()}


def _quarantine(record: DeliveredRecord, reason: str, settings: Settings, now: datetime) -> list[str]:
    """Keep a malformed record's raw bytes in the bucket and count it; returns [sequence] if that failed."""
    key = f'{settings.QUARANTINE_PREFIX}/dt={now:%Y-%m-%d}/{record.shard_id}/{record.sequence}.json'
    try:
        s3.put_object(
            settings.LAKE_BUCKET,
            key,
            record.data,
            _ascii({'reason': reason[:1000], 'partition-key': record.partition_key}),
        )
        # Apart from events and duplicates, which stats set against the events the ingest API accepted: a
        # malformed record did not come from it (the API only queues what it validated).
        dynamodb.record_markers(
            settings.EVENTS_TABLE,
            settings.COUNTERS_TABLE,
            _project_of(record),
            [dynamodb.Marker(_marker_pk(record))],
            _expiry(now, settings.EVENT_ID_TTL_DAYS),
            'quarantined',
            counters.PIPELINE,
        )
    except ServiceUnavailableError:
        logger.exception('Quarantine failed; the record will be redelivered', extra={'sequence': record.sequence})
        return [record.sequence]
    logger.warning('Quarantined a malformed record', extra={'sequence': record.sequence, 'reason': reason, 'key': key})
    return []
