"""Events sent over HTTP to the local stack land in the Parquet lake and the counters, exactly once."""

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from local import demo_data
from local.stack import LOCAL_PROJECT_ID, LocalStack
from tests.e2e.support import (
    TRACK,
    bearer,
    counters,
    kinesis_records,
    lake_keys,
    lake_rows,
    new_project,
    post_batch,
    stats,
)

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # the clock of this module: no run depends on its day


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


def seed_events(count: int, seed: int) -> list[dict]:
    return demo_data.generate(count, days=20, seed=seed, now=NOW)


def expected_counts(events: list[dict]) -> tuple[Counter, Counter]:
    categories = Counter(event['category'] for event in events)
    days = Counter(f'day#{event["timestamp"][:10]}' for event in events)
    return categories, days


def test_single_event_lands_in_lake_counters_and_stats(stack: LocalStack) -> None:
    before = stats(stack, stack.api_key)['total_events']
    event_id = str(uuid.uuid4())
    body = {
        'event_name': 'checkout_clicked',
        'category': 'user_action',
        'priority': 'high',
        'properties': {'button': 'buy', 'cart': {'items': 3}},
        'timestamp': NOW.isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
        'session_id': 'sess-e2e-single',
        'page_url': 'https://shop.example.com/cart?step=2',
        'event_id': event_id,
    }
    agent = demo_data.USER_AGENTS[0]

    response = requests.post(stack.url + TRACK, json=body, headers={**bearer(stack.api_key), 'User-Agent': agent})
    stack.drain()

    assert response.status_code == 200, response.text
    assert response.json()['success'] is True
    assert response.json()['event_id'] == event_id
    rows = [row for row in lake_rows(stack, LOCAL_PROJECT_ID).to_pylist() if row['event_id'] == event_id]
    assert len(rows) == 1
    row = rows[0]
    assert (row['name'], row['category'], row['priority']) == ('checkout_clicked', 'user_action', 'high')
    assert json.loads(row['properties']) == body['properties']
    assert (row['page_host'], row['page_path']) == ('shop.example.com', '/cart')
    assert row['user_agent'] == agent  # taken from the header when the body has none
    assert row['browser_family'] == 'Chrome'
    assert row['user_ip'] == '127.0.0.0'  # the gateway's sourceIp, truncated to /24 by default
    after = stats(stack, stack.api_key)
    assert after['total_events'] == before + 1
    assert after['buffer_status']['events_pending'] == 0


def test_batch_lands_exactly_with_per_category_and_per_day_counts(stack: LocalStack) -> None:
    project_id, key = new_project()
    events = seed_events(100, seed=1)

    response = post_batch(stack, key, events)
    stack.drain()

    assert response.status_code == 200, response.text
    assert response.json() | {'timestamp': None, 'message': None} == {
        'success': True,
        'events_received': 100,
        'events_queued': 100,
        'events_failed': 0,
        'message': None,
        'timestamp': None,
    }
    categories, days = expected_counts(events)
    rows = lake_rows(stack, project_id)
    assert sorted(rows['event_id'].to_pylist()) == sorted(event['event_id'] for event in events)
    assert Counter(rows['category'].to_pylist()) == categories
    by_id = {row['event_id']: row for row in rows.to_pylist()}
    for event in events:
        row = by_id[event['event_id']]
        assert row['user_groups'] == event['user']['groups']
        assert row['timestamp'].isoformat(timespec='milliseconds').replace('+00:00', 'Z') == event['timestamp']
    assert _lake_partitions(stack, project_id) == {day.removeprefix('day#') for day in days}
    counted = counters(stack, project_id)
    total = counted['total']
    assert total['events'] == 100
    assert {name.removeprefix('cat_'): n for name, n in total.items() if name.startswith('cat_')} == categories
    assert {day: counted[day]['events'] for day in days} == days
    reported = stats(stack, key)
    assert reported['total_events'] == 100
    assert reported['events_by_category'] == dict(categories)
    assert reported['buffer_status']['events_pending'] == 0
    assert reported['buffer_status']['events_flushed_total'] == 100


def _lake_partitions(stack: LocalStack, project_id: str) -> set[str]:
    keys = lake_keys(stack, f'events/project_id={project_id}/')
    return {key.split('/dt=', 1)[1].split('/', 1)[0] for key in keys}


def test_replayed_batch_changes_no_count_and_no_lake_row(stack: LocalStack) -> None:
    project_id, key = new_project()
    events = seed_events(60, seed=2)
    assert post_batch(stack, key, events).status_code == 200
    stack.drain()
    first_stats, first_rows = stats(stack, key), lake_rows(stack, project_id).num_rows

    replay = post_batch(stack, key, events)
    stack.drain()

    assert replay.status_code == 200
    assert replay.json()['events_queued'] == 60  # accepted again; the writer removes the duplicates
    second_stats = stats(stack, key)
    assert first_rows == lake_rows(stack, project_id).num_rows == 60
    assert second_stats['total_events'] == first_stats['total_events'] == 60
    assert second_stats['events_by_category'] == first_stats['events_by_category']
    assert second_stats['buffer_status']['events_pending'] == 0
    assert counters(stack, project_id)['pipeline']['duplicates'] == 60


def test_poison_record_is_quarantined_with_raw_bytes_and_blocks_nothing(stack: LocalStack) -> None:
    project_id, key = new_project()
    events = seed_events(30, seed=3)
    poison = b'{"event_id": "broken", "name": 42'
    kinesis = stack.client('kinesis')
    put = kinesis.put_record(
        StreamName=stack.name_of('EventsStream'), Data=poison, PartitionKey=f'{project_id}:sess-poison'
    )
    assert post_batch(stack, key, events).status_code == 200

    stack.drain()

    quarantined = [
        k for k in lake_keys(stack, 'quarantine/') if k.endswith(f'/{put["ShardId"]}/{put["SequenceNumber"]}.json')
    ]
    assert len(quarantined) == 1
    body = stack.client('s3').get_object(Bucket=stack.name_of('LakeBucket'), Key=quarantined[0])['Body'].read()
    assert body == poison
    assert lake_rows(stack, project_id).num_rows == 30
    reported = stats(stack, key)
    assert reported['total_events'] == 30
    assert reported['buffer_status']['events_pending'] == 0
    assert counters(stack, project_id)['pipeline']['quarantined'] == 1
    # both consumers handled the poison record themselves: no batch failed over to the on-failure destination
    assert lake_keys(stack, '', bucket='FailedBatchesBucket') == []
    assert [poller.discarded_batches for poller in stack.pollers] == [0, 0]


@pytest.mark.parametrize(
    ('throttle', 'injected', 'count', 'size', 'seed'),
    [('throttle_records', 'records_rejected', 7, 40, 4), ('throttle_calls', 'calls_rejected', 2, 10, 5)],
    ids=['entries', 'whole-calls'],
)
def test_throttled_puts_are_retried_and_land_once(
    stack: LocalStack, throttle: str, injected: str, count: int, size: int, seed: int
) -> None:
    project_id, key = new_project()
    events = seed_events(size, seed=seed)
    rejected_before = getattr(stack.kinesis_faults.injected, injected)
    getattr(stack.kinesis_faults, throttle)(count)

    response = post_batch(stack, key, events)
    stack.drain()

    assert getattr(stack.kinesis_faults.injected, injected) - rejected_before == count
    assert (response.json()['success'], response.json()['events_queued']) == (True, size)
    assert lake_rows(stack, project_id).num_rows == size
    assert stats(stack, key)['total_events'] == size


def test_events_still_throttled_after_retries_are_reported_failed_not_queued(stack: LocalStack) -> None:
    project_id, key = new_project()
    events = seed_events(10, seed=6)
    stack.kinesis_faults.throttle_records(10_000)

    batch = post_batch(stack, key, events)
    single = requests.post(stack.url + TRACK, json=events[0], headers=bearer(key))
    stack.kinesis_faults.clear()
    stack.drain()

    assert batch.status_code == 200
    assert batch.json()['success'] is False
    assert (batch.json()['events_queued'], batch.json()['events_failed']) == (0, 10)
    assert single.status_code == 503
    assert lake_rows(stack, project_id) is None
    assert stats(stack, key)['buffer_status']['events_pending'] == 0


def test_concurrent_senders_give_exact_totals(stack: LocalStack) -> None:
    project_id, key = new_project()
    events = seed_events(1200, seed=7)
    chunks = [events[start : start + 100] for start in range(0, len(events), 100)]
    responses: list[requests.Response] = []

    def send(chunk_group: list[list[dict]]) -> None:
        for chunk in chunk_group:
            responses.append(post_batch(stack, key, chunk))

    threads = [threading.Thread(target=send, args=(chunks[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stack.drain()

    assert [r.status_code for r in responses] == [200] * 12
    assert sum(r.json()['events_queued'] for r in responses) == 1200
    rows = lake_rows(stack, project_id)
    assert rows.num_rows == 1200
    assert set(rows['event_id'].to_pylist()) == {event['event_id'] for event in events}
    categories, _ = expected_counts(events)
    reported = stats(stack, key)
    assert reported['total_events'] == 1200
    assert reported['events_by_category'] == dict(categories)
    assert reported['buffer_status']['events_pending'] == 0


def test_kinesis_records_carry_the_partition_key_of_project_and_session(stack: LocalStack) -> None:
    project_id, key = new_project()
    event = seed_events(1, seed=8)[0]
    assert requests.post(stack.url + TRACK, json=event, headers=bearer(key)).status_code == 200
    stack.drain()

    found = [r for r in kinesis_records(stack) if r['PartitionKey'] == f'{project_id}:{event["session_id"]}']
    assert len(found) == 1
    assert json.loads(found[0]['Data'])['event_id'] == event['event_id']
