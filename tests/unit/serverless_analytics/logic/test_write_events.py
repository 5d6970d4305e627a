"""The stream writer's batching arithmetic (its I/O is covered by the integration tests against moto)."""

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from serverless_analytics.adapters.dynamodb import MAX_TRANSACTION_ITEMS
from serverless_analytics.lake.records import decode
from serverless_analytics.logic.write_events import (
    Columns,
    CounterExpiries,
    DeliveredRecord,
    Duplicate,
    HourRows,
    TimeKeys,
    _deltas,
    _transaction_chunks,
    batch_columns,
    by_hour,
    lake_files,
    plan,
    prepare_batch,
)
from tests.unit.serverless_analytics.conftest import stream_record_data

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _keys(timestamp: datetime) -> TimeKeys:
    return TimeKeys(f'{timestamp:%Y-%m-%d}', f'day#{timestamp:%Y-%m-%d}', f'hour#{timestamp:%Y-%m-%dT%H}')


def _hours(stamps: list[datetime]) -> list[HourRows]:
    """Row i at stamps[i], grouped by hour as the writer groups its inserts."""
    times = [_keys(stamp) for stamp in stamps]
    return by_hour(list(range(len(stamps))), times)


def _operations(chunk: list[HourRows]) -> int:
    # one put per row, the total counter, and one item per distinct day and hour
    return (
        sum(len(rows) for _, rows in chunk)
        + 1
        + len({k.day_key for k, _ in chunk})
        + len({k.hour_key for k, _ in chunk})
    )


def _rows(chunks: list[list[HourRows]]) -> list[int]:
    return sorted(row for chunk in chunks for _, rows in chunk for row in rows)


def test_chunks_fit_a_transaction_when_every_event_has_its_own_hour():
    chunks = _transaction_chunks(_hours([NOW - timedelta(hours=i) for i in range(300)]))

    assert _rows(chunks) == list(range(300))
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)


def test_events_are_chunked_by_hour_so_a_transaction_touches_few_counters():
    # Given: 300 events whose hours take turns in record order
    hours = _hours([NOW - timedelta(hours=i % 3) for i in range(300)])

    # When
    chunks = _transaction_chunks(hours)

    # Then: every event once, each chunk within the limit, and no chunk spanning more than two hours
    assert _rows(chunks) == list(range(300))
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)
    assert [len({k.hour_key for k, _ in chunk}) for chunk in chunks] == [1, 2, 2, 1]


def test_events_of_one_hour_fill_a_transaction():
    chunks = _transaction_chunks(_hours([NOW] * 500))
    assert [sum(len(rows) for _, rows in chunk) for chunk in chunks] == [97, 97, 97, 97, 97, 15]
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)


def test_deltas_count_totals_categories_days_and_hours():
    stamps = [NOW, NOW, NOW - timedelta(hours=1), NOW - timedelta(days=1)]
    categories = ['auth', 'error', 'auth', 'system']

    deltas = {d.sort_key: d for d in _deltas(_hours(stamps), categories, CounterExpiries(day=400, hour=3))}

    assert dict(deltas['total'].add) == {'events': 4, **{f'cat_{c}': n for c, n in Counter(categories).items()}}
    assert 'pipeline' not in deltas  # its last flush is set once a batch, outside the transactions
    assert (deltas['day#2026-11-22'].add, deltas['day#2026-11-22'].expires_at) == ({'events': 3}, 400)
    assert deltas['day#2026-11-21'].add == {'events': 1}
    assert (deltas['hour#2026-11-22T12'].add, deltas['hour#2026-11-22T12'].expires_at) == ({'events': 2}, 3)
    assert deltas['hour#2026-11-22T11'].add == {'events': 1}
    assert deltas['hour#2026-11-21T12'].add == {'events': 1}
    assert len(deltas) == 6  # the total, two days, three hours


def test_a_plan_tells_new_events_redeliveries_and_duplicates_apart():
    # Given: rows 0-4 of one project; row 1 repeats row 0's event; rows 2 and 3 carry events stored already, by
    # row 2's own record (a redelivery) and by another record (a client retry)
    pks = ['p#a', 'p#a', 'p#b', 'p#c', 'p#d']
    columns = Columns([], [], [], [], pks, ['s#1', 's#2', 's#3', 's#4', 's#5'])  # what a plan reads
    written_by = {'p#b': 's#3', 'p#c': 's#9'}

    planned = plan([0, 1, 2, 3, 4], columns, written_by)

    assert planned.inserts == [0, 4]
    assert planned.duplicates == [Duplicate(1, None), Duplicate(3, 's#9')]  # row 2 is neither: nothing to do
    assert plan([0, 2, 4], columns, {}).inserts == [0, 2, 4]


def test_batch_columns_key_each_row_by_its_utc_day_and_hour():
    # Given: events either side of midnight UTC, sent with offsets, and one before 1970 (which the ingest API
    # refuses, but the stream may carry from another producer)
    stamps = ['2026-03-01T23:30:00-02:00', '2026-03-01T00:10:00+01:00', '2026-03-01T23:59:59.999-02:00']
    before_1970 = json.dumps({**json.loads(stream_record_data()), 'timestamp': '1969-12-31T23:59:59Z'}).encode()
    decoded = decode([*(stream_record_data(timestamp=stamp) for stamp in stamps), before_1970])

    # When
    columns = batch_columns(decoded.rows, ['s#1', 's#2', 's#3', 's#4'])

    # Then: the UTC hours of 2026-03-02T01:30Z, 2026-02-28T23:10Z, 2026-03-02T01:59:59.999Z and 1969-12-31T23:59:59Z
    assert columns.time == [
        TimeKeys('2026-03-02', 'day#2026-03-02', 'hour#2026-03-02T01'),
        TimeKeys('2026-02-28', 'day#2026-02-28', 'hour#2026-02-28T23'),
        TimeKeys('2026-03-02', 'day#2026-03-02', 'hour#2026-03-02T01'),
        TimeKeys('1969-12-31', 'day#1969-12-31', 'hour#1969-12-31T23'),
    ]
    assert columns.project_id == ['p1'] * 4
    assert columns.category == ['user_action'] * 4
    assert columns.event_id == decoded.rows['event_id'].to_pylist()
    assert columns.pk == [f'p1#{event_id}' for event_id in decoded.rows['event_id'].to_pylist()]
    assert columns.record_id == ['s#1', 's#2', 's#3', 's#4']


def test_a_prepared_batch_groups_good_records_by_project_with_their_event_keys():
    # Given: two events of project p1, a record with another project in its key, and a malformed record
    first, second = stream_record_data(event_id='5b0c3c8e-1d2a-4f6b-9c1e-000000000001'), stream_record_data()
    other = json.dumps({**json.loads(stream_record_data()), 'project_id': 'p2'}).encode()
    batch = [
        DeliveredRecord('shardId-0', '1', 'p1:s', first),
        DeliveredRecord('shardId-0', '2', 'p1:s', b'not json'),
        DeliveredRecord('shardId-0', '3', 'p2:s', other),
        DeliveredRecord('shardId-0', '4', 'p1:s', second),
    ]

    prepared = prepare_batch(batch)

    # Then
    assert list(prepared.decoded.bad) == [1]
    assert prepared.projects == {'p1': [0, 2], 'p2': [1]}
    assert prepared.columns.pk == [
        f'p1#{json.loads(first)["event_id"]}',
        f'p2#{json.loads(other)["event_id"]}',
        f'p1#{json.loads(second)["event_id"]}',
    ]
    assert prepared.columns.record_id == ['shardId-0#1', 'shardId-0#3', 'shardId-0#4']
    assert prepared.file_rows.num_rows == 3
    assert 'project_id' not in prepared.file_rows.column_names


def test_lake_files_hold_each_days_new_rows_in_record_order():
    # Given: a batch of one project over two UTC days, its second record a duplicate of its first
    stamps = ['2026-11-21T23:59:00Z', '2026-11-21T23:59:00Z', '2026-11-22T00:01:00Z', '2026-11-21T22:00:00Z']
    ids = [f'5b0c3c8e-1d2a-4f6b-9c1e-00000000000{i}' for i in (1, 1, 2, 3)]
    batch = [
        DeliveredRecord('shardId-0', str(n), 'p1:s', stream_record_data(event_id=event_id, timestamp=stamp))
        for n, (event_id, stamp) in enumerate(zip(ids, stamps, strict=True))
    ]
    prepared = prepare_batch(batch)
    inserts = plan(prepared.projects['p1'], prepared.columns, {}).inserts

    # When
    files = lake_files('events', 'p1', by_hour(inserts, prepared.columns.time), prepared.columns, prepared.file_rows)

    # Then
    assert [key.rsplit('/', 1)[0] for key, _ in files] == [
        'events/project_id=p1/dt=2026-11-21',
        'events/project_id=p1/dt=2026-11-22',
    ]
    days = [pq.read_table(io.BytesIO(body)).column('event_id').to_pylist() for _, body in files]
    assert days == [[ids[0], ids[3]], [ids[2]]]


def test_a_batch_of_one_project_and_one_day_is_one_file_of_every_row():
    ids = [f'5b0c3c8e-1d2a-4f6b-9c1e-00000000000{n}' for n in range(3)]
    batch = [DeliveredRecord('shardId-0', str(n), 'p1:s', stream_record_data(event_id=ids[n])) for n in range(3)]
    prepared = prepare_batch(batch)

    [(key, body)] = lake_files(
        'events', 'p1', by_hour([0, 1, 2], prepared.columns.time), prepared.columns, prepared.file_rows
    )

    assert pq.read_table(io.BytesIO(body)).column('event_id').to_pylist() == ids
    assert key.startswith('events/project_id=p1/dt=2026-11-22/part-')
