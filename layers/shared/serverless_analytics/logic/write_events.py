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
from typing import NamedTuple, cast

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

# The writer works on rows (a good record's index in the decoded batch) and per-row lists made once per batch
# (`Columns`), not on an object per record: a batch is thousands of records, and each object and each pass over
# them cost the writer as much as decoding a record's JSON does (issue 17's profile).


class TimeKeys(NamedTuple):
    """Where an event hour goes: its lake partition and its counter items (shared by the rows of that hour)."""

    dt: str  # UTC day of the event time, the lake partition
    day_key: str
    hour_key: str

    @classmethod
    def of(cls, hour: datetime) -> 'TimeKeys':
        return cls(f'{hour:%Y-%m-%d}', counters.day_key(hour), counters.hour_key(hour))


HourRows = tuple[TimeKeys, list[int]]  # the rows of one event hour


class Duplicate(NamedTuple):
    """A row whose event is stored already, or earlier in the batch: counted once as a duplicate, never written."""

    row: int
    owner: str | None  # the record that had written the event when the batch was planned


class Plan(NamedTuple):
    """What to do with a project's rows. A row in neither list is a redelivery of the record that wrote its event:
    neither counted nor written again."""

    inserts: list[int]  # new events, in record order
    duplicates: list[Duplicate]


class Columns(NamedTuple):
    """The values the writer decides with, one list each, indexed by row."""

    event_id: list[str]
    project_id: list[str]
    category: list[str]
    time: list[TimeKeys]  # the event's hour
    pk: list[str]  # `<project>#<event_id>`, the event's key in the events table
    record_id: list[str]  # the record the row came from


class PreparedBatch(NamedTuple):
    """A decoded batch, before anything is looked up or written."""

    decoded: lake.DecodedBatch
    columns: Columns
    file_rows: pa.Table  # the rows in the lake's file schema, made once per batch rather than per file
    projects: dict[str, list[int]]  # the rows of each project, in record order


def _expiry(now: datetime, days: int) -> int:
    return int((now + timedelta(days=days)).timestamp())


def _marker_pk(record_id: str) -> str:
    return f'seq#{record_id}'


def _project_of(record: DeliveredRecord) -> str:
    return record.partition_key.split(':', 1)[0]


def prepare_batch(batch: Sequence[DeliveredRecord]) -> PreparedBatch:
    decoded = lake.decode([record.data for record in batch])
    columns = batch_columns(decoded.rows, [batch[index].record_id for index in decoded.good])
    projects: dict[str, list[int]] = defaultdict(list)
    for row, project_id in enumerate(columns.project_id):
        projects[project_id].append(row)
    return PreparedBatch(decoded, columns, lake.to_file_schema(decoded.rows), dict(projects))


def write_batch(batch: Sequence[DeliveredRecord], settings: Settings, now: datetime | None = None) -> list[str]:
    """Write one Kinesis batch; returns the sequence numbers to report as failed (to be redelivered)."""
    now = now or clock.now()
    prepared = prepare_batch(batch)
    failed: list[str] = []
    for index, reason in prepared.decoded.bad.items():
        failed += _quarantine(batch[index], reason, settings, now)
    pks = prepared.columns.pk
    for project_id, rows in prepared.projects.items():
        try:
            written_by = dynamodb.get_event_writers(settings.EVENTS_TABLE, [pks[row] for row in rows])
            _write_project(project_id, plan(rows, prepared.columns, written_by), prepared, settings, now)
        except ServiceUnavailableError:
            logger.exception('Writing a project group failed; it will be redelivered', extra={'project_id': project_id})
            failed += [batch[prepared.decoded.good[row]].sequence for row in rows]
    return failed


def batch_columns(rows: pa.Table, record_ids: list[str]) -> Columns:
    """The decoded rows' columns as Python lists made by Arrow column by column, and the records they came from."""
    event_ids = _required(lake.strings(rows['event_id']))
    projects: list[str] = _required(lake.per_row(rows['project_id']))
    return Columns(
        event_id=event_ids,
        project_id=projects,
        category=_required(lake.per_row(rows['category'])),
        time=_required(lake.per_row_hour(rows, TimeKeys.of)),
        pk=[f'{project}#{event}' for project, event in zip(projects, event_ids, strict=True)],
        record_id=record_ids,
    )


def _required[T](values: list[T | None]) -> list[T]:
    """The values of a column the schema requires (lake.schema): no row that decoded has a null in it."""
    return cast(list[T], values)


def plan(rows: list[int], columns: Columns, written_by: dict[str, str]) -> Plan:
    """Decide per row: a new event, a redelivery of the record that wrote it, or a duplicate of another
    (`written_by`: the record that wrote each event key already stored)."""
    pks = columns.pk
    if not written_by and len({pks[row] for row in rows}) == len(rows):  # nearly every batch: all new, none twice
        return Plan(rows, [])
    record_ids = columns.record_id
    inserts: list[int] = []
    duplicates: list[Duplicate] = []
    seen: set[str] = set()
    for row in rows:
        pk = pks[row]
        owner = written_by.get(pk)
        if owner is not None:
            if owner != record_ids[row]:
                duplicates.append(Duplicate(row, owner))
        elif pk in seen:
            duplicates.append(Duplicate(row, None))
        else:
            inserts.append(row)
        seen.add(pk)
    return Plan(inserts, duplicates)


def _write_project(project_id: str, planned: Plan, prepared: PreparedBatch, settings: Settings, now: datetime) -> None:
    hours = by_hour(planned.inserts, prepared.columns.time)
    for key, body in lake_files(settings.LAKE_PREFIX, project_id, hours, prepared.columns, prepared.file_rows):
        s3.put_object(settings.LAKE_BUCKET, key, body)
    # After the lake files, so a rollup that sees the mark finds the rows: one write per day of the batch.
    dynamodb.mark_touched(settings.ROLLUP_STATE_TABLE, [(project_id, keys.dt) for keys, _ in hours], uuid.uuid4().hex)
    conflicts = _insert_events(project_id, hours, prepared.columns, settings, now)
    _count_duplicates(project_id, planned.duplicates + conflicts, prepared.columns, settings, now)
    if planned.inserts:
        # Once per batch, outside the transactions: a time, not a count, so it needs no atomicity with the events.
        flushed = dynamodb.CounterDelta(counters.PIPELINE, add={}, set={'last_flush': now.isoformat()})
        dynamodb.add_to_counters(settings.COUNTERS_TABLE, project_id, [flushed])


def by_hour(rows: list[int], times: list[TimeKeys]) -> list[HourRows]:
    """The rows of each event hour, in record order, hours in order."""
    grouped: dict[TimeKeys, list[int]] = defaultdict(list)
    for row in rows:
        grouped[times[row]].append(row)
    return sorted(grouped.items())


def lake_files(
    prefix: str, project_id: str, hours: list[HourRows], columns: Columns, rows: pa.Table
) -> list[tuple[str, bytes]]:
    """(object key, Parquet bytes) of one file per UTC day of the rows, in record order."""
    by_date: dict[str, list[int]] = defaultdict(list)
    for keys, hour in hours:
        by_date[keys.dt] += hour
    record_ids = columns.record_id
    files = []
    for dt, members in by_date.items():  # in date order, as the hours are
        members.sort()
        key = lake.object_key(prefix, project_id, dt, [record_ids[row] for row in members])
        # Every row, in order (a batch of one project and one day, as most are): the table as it is, not a copy.
        file_rows = rows if len(members) == rows.num_rows else rows.take(members)
        files.append((key, lake.parquet_bytes(file_rows)))
    return files


class CounterExpiries(NamedTuple):
    """When a day's and an hour's counter items expire (the same for every item a batch writes)."""

    day: int
    hour: int

    @classmethod
    def at(cls, now: datetime) -> 'CounterExpiries':
        return cls(_expiry(now, DAY_COUNTER_DAYS), _expiry(now, HOUR_COUNTER_DAYS))


def _deltas(chunk: list[HourRows], categories: list[str], expiries: CounterExpiries) -> list[dynamodb.CounterDelta]:
    """The counts of a chunk of rows: the total and its categories, each day and each hour."""
    days: Counter[str] = Counter()
    for keys, rows in chunk:
        days[keys.day_key] += len(rows)
    by_category = Counter([categories[row] for _, rows in chunk for row in rows])
    return [
        dynamodb.CounterDelta(
            counters.TOTAL,
            add={'events': days.total(), **{counters.CATEGORY_PREFIX + name: n for name, n in by_category.items()}},
        ),
        *(dynamodb.CounterDelta(key, add={'events': n}, expires_at=expiries.day) for key, n in days.items()),
        *(
            dynamodb.CounterDelta(keys.hour_key, add={'events': len(rows)}, expires_at=expiries.hour)
            for keys, rows in chunk
        ),
    ]


def _transaction_chunks(hours: list[HourRows]) -> list[list[HourRows]]:
    """Split the hours' rows so that each chunk's puts plus its counter updates fit in one transaction.

    Rows go in order of their hour, so a chunk touches one or two hour and day counters rather than every hour of
    the batch: a batch spread over a day took ~30 counter updates per transaction in record order, a third of the
    writer's CPU and of the transactions' write units. An hour's rows are placed as a run (as many as the chunk has
    room for), not one by one."""
    fixed_counters = 1  # the total
    chunks: list[list[HourRows]] = []
    chunk: list[HourRows] = []
    size = 0
    time_keys: set[str] = set()
    for keys, rows in hours:
        hour_keys = {keys.day_key, keys.hour_key}
        while rows:
            room = dynamodb.MAX_TRANSACTION_ITEMS - fixed_counters - len(time_keys | hour_keys) - size
            if not chunk or room < 1:
                chunk, time_keys, size = [], set(), 0
                chunks.append(chunk)
                room = dynamodb.MAX_TRANSACTION_ITEMS - fixed_counters - len(hour_keys)
            chunk.append((keys, rows[:room]))
            size += len(chunk[-1][1])
            rows = rows[room:]
            time_keys |= hour_keys
    return chunks


def _insert_events(
    project_id: str, hours: list[HourRows], columns: Columns, settings: Settings, now: datetime
) -> list[Duplicate]:
    """Insert new events with their counts; returns the rows whose events turned out to exist (written
    concurrently), as duplicates."""
    pks, record_ids, categories = columns.pk, columns.record_id, columns.category
    conflicts: list[Duplicate] = []
    expires_at = _expiry(now, settings.EVENT_ID_TTL_DAYS)
    expiries = CounterExpiries.at(now)
    for chunk in _transaction_chunks(hours):
        while chunk:
            rows = [row for _, hour in chunk for row in hour]
            existing = dynamodb.insert_events(
                settings.EVENTS_TABLE,
                settings.COUNTERS_TABLE,
                project_id,
                [(pks[row], record_ids[row]) for row in rows],
                expires_at,
                _deltas(chunk, categories, expiries),
            )
            if not existing:
                break
            gone = {rows[i] for i in existing}
            conflicts += [Duplicate(row, None) for row in sorted(gone)]
            chunk = [(keys, kept) for keys, hour in chunk if (kept := [row for row in hour if row not in gone])]
    return conflicts


def _count_duplicates(
    project_id: str, duplicates: list[Duplicate], columns: Columns, settings: Settings, now: datetime
) -> None:
    pks, record_ids = columns.pk, columns.record_id
    # A duplicate's marker checks that this record did not write the event after all, unless another record had
    # written it at planning time (an event item is written once, so its writer cannot change): a concurrent
    # delivery of this same record may have written it.
    markers = [
        dynamodb.Marker(_marker_pk(record_ids[row]), None if owner is not None else (pks[row], record_ids[row]))
        for row, owner in duplicates
    ]
    dynamodb.record_markers(
        settings.EVENTS_TABLE,
        settings.COUNTERS_TABLE,
        project_id,
        markers,
        _expiry(now, settings.EVENT_ID_TTL_DAYS),
        'duplicates',
        counters.PIPELINE,
    )


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
            [dynamodb.Marker(_marker_pk(record.record_id))],
            _expiry(now, settings.EVENT_ID_TTL_DAYS),
            'quarantined',
            counters.PIPELINE,
        )
    except ServiceUnavailableError:
        logger.exception('Quarantine failed; the record will be redelivered', extra={'sequence': record.sequence})
        return [record.sequence]
    logger.warning('Quarantined a malformed record', extra={'sequence': record.sequence, 'reason': reason, 'key': key})
    return []
