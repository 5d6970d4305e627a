"""The stream writer's batching arithmetic (its I/O is covered by the integration tests against moto)."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from serverless_analytics.adapters.dynamodb import MAX_TRANSACTION_ITEMS
from serverless_analytics.lake.records import decode
from serverless_analytics.logic.write_events import (
    CounterExpiries,
    DeliveredRecord,
    PlannedEvent,
    TimeKeys,
    _deltas,
    _transaction_chunks,
    batch_columns,
    prepare_batch,
)
from tests.unit.serverless_analytics.conftest import stream_record_data

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _event(i: int, timestamp: datetime, category: str = 'user_action') -> PlannedEvent:
    record = DeliveredRecord('shardId-0', str(i), 'p1:s', b'{}')
    keys = TimeKeys(f'{timestamp:%Y-%m-%d}', f'day#{timestamp:%Y-%m-%d}', f'hour#{timestamp:%Y-%m-%dT%H}')
    return PlannedEvent(record, i, f'p1#e{i}', keys, category, 'insert')


def _operations(chunk: list[PlannedEvent]) -> int:
    # one put per event, the total counter, and one item per distinct day and hour
    return len(chunk) + 1 + len({e.time.day_key for e in chunk}) + len({e.time.hour_key for e in chunk})


def test_chunks_fit_a_transaction_when_every_event_has_its_own_hour():
    events = [_event(i, NOW - timedelta(hours=i)) for i in range(300)]

    chunks = _transaction_chunks(events)

    assert sorted(e.pk for chunk in chunks for e in chunk) == sorted(e.pk for e in events)
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)


def test_events_are_chunked_by_hour_so_a_transaction_touches_few_counters():
    # Given: 300 events whose hours take turns in record order
    events = [_event(i, NOW - timedelta(hours=i % 3)) for i in range(300)]

    # When
    chunks = _transaction_chunks(events)

    # Then: every event once, each chunk within the limit, and no chunk spanning more than two hours
    assert sorted(e.pk for chunk in chunks for e in chunk) == sorted(e.pk for e in events)
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)
    assert [len({e.time.hour_key for e in chunk}) for chunk in chunks] == [1, 2, 2, 1]


def test_events_of_one_hour_fill_a_transaction():
    chunks = _transaction_chunks([_event(i, NOW) for i in range(500)])
    assert [len(chunk) for chunk in chunks] == [97, 97, 97, 97, 97, 15]
    assert all(_operations(chunk) <= MAX_TRANSACTION_ITEMS for chunk in chunks)


def test_deltas_count_totals_categories_days_and_hours():
    stamps = [NOW, NOW, NOW - timedelta(hours=1), NOW - timedelta(days=1)]
    categories = ['auth', 'error', 'auth', 'system']
    events = [_event(i, stamp, category) for i, (stamp, category) in enumerate(zip(stamps, categories, strict=True))]

    deltas = {delta.sort_key: delta for delta in _deltas(events, CounterExpiries(day=400, hour=3))}

    assert dict(deltas['total'].add) == {'events': 4, **{f'cat_{c}': n for c, n in Counter(categories).items()}}
    assert 'pipeline' not in deltas  # its last flush is set once a batch, outside the transactions
    assert (deltas['day#2026-11-22'].add, deltas['day#2026-11-22'].expires_at) == ({'events': 3}, 400)
    assert deltas['day#2026-11-21'].add == {'events': 1}
    assert (deltas['hour#2026-11-22T12'].add, deltas['hour#2026-11-22T12'].expires_at) == ({'events': 2}, 3)
    assert deltas['hour#2026-11-22T11'].add == {'events': 1}


def test_batch_columns_key_each_row_by_its_utc_day_and_hour():
    # Given: events either side of midnight UTC, sent with offsets, and one before 1970 (which the ingest API
    # refuses, but the stream may carry from another producer)
    stamps = ['2026-03-01T23:30:00-02:00', '2026-03-01T00:10:00+01:00', '2026-03-01T23:59:59.999-02:00']
    before_1970 = json.dumps({**json.loads(stream_record_data()), 'timestamp': '1969-12-31T23:59:59Z'}).encode()
    decoded = decode([*(stream_record_data(timestamp=stamp) for stamp in stamps), before_1970])

    # When
    columns = batch_columns(decoded.rows)

    # Then: the UTC hours of 2026-03-02T01:30Z, 2026-02-28T23:10Z, 2026-03-02T01:59:59.999Z and 1969-12-31T23:59:59Z
    assert columns['time'] == [
        TimeKeys('2026-03-02', 'day#2026-03-02', 'hour#2026-03-02T01'),
        TimeKeys('2026-02-28', 'day#2026-02-28', 'hour#2026-02-28T23'),
        TimeKeys('2026-03-02', 'day#2026-03-02', 'hour#2026-03-02T01'),
        TimeKeys('1969-12-31', 'day#1969-12-31', 'hour#1969-12-31T23'),
    ]
    assert columns['project_id'] == ['p1'] * 4
    assert columns['category'] == ['user_action'] * 4
    assert columns['event_id'] == decoded.rows['event_id'].to_pylist()


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
    assert sorted(prepared.projects) == ['p1', 'p2']
    p1 = prepared.projects['p1']
    assert [record.sequence for _, record in p1.members] == ['1', '4']
    assert p1.pks == [f'p1#{json.loads(first)["event_id"]}', f'p1#{json.loads(second)["event_id"]}']
    assert prepared.file_rows.num_rows == 3
    assert 'project_id' not in prepared.file_rows.column_names
