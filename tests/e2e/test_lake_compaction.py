"""Lake compaction on the local stack: events posted over HTTP, a duplicate file as a redelivery can leave it,
then the compaction function as its schedule runs it; the export answers each event once again."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.support import bearer, lake_keys, lake_rows, new_project, post_batch

pytestmark = pytest.mark.e2e

COUNTS = '/analytics/api/v1/traffic/event-counts'
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # the clock of this module: no run depends on its day
START = (NOW - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
DAYS = 2


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


def _events(batch: int) -> list[dict]:
    return [
        {
            'event_id': str(uuid.uuid4()),
            'event_name': 'page_view',
            'timestamp': (START + timedelta(hours=3 * i + batch)).isoformat(),
            'user_id': f'u{i % 5}',
        }
        for i in range(8 * DAYS)
    ]


def _counts_per_day(stack: LocalStack, key: str) -> list[int]:
    body = {
        'startDate': f'{START:%Y-%m-%d}',
        'endDate': f'{START + timedelta(days=DAYS):%Y-%m-%d}',
        'groupByPeriod': 'day',
    }
    answer = requests.post(stack.url + COUNTS, json=body, headers=bearer(key), timeout=30)
    assert answer.status_code == 200, answer.text
    return [period['eventCount'] for period in answer.json()['results'][0]['periods']]


def test_compaction_merges_the_writer_files_and_the_export_counts_each_event_once(stack: LocalStack) -> None:
    # Given: three batches, each written by its own writer runs (one per shard), so each day holds several files
    project_id, key = new_project()
    sent = []
    for batch in range(3):
        events = _events(batch)
        assert post_batch(stack, key, events).status_code == 200
        stack.drain()
        sent += events
    prefix = f'events/project_id={project_id}/'
    written = lake_keys(stack, prefix)
    assert len(written) >= 3 * DAYS
    # ...and one of them stored twice, as a redelivery in a differently split batch writes it
    s3, bucket = stack.client('s3'), stack.name_of('LakeBucket')
    copy = written[0].rsplit('/', 1)[0] + '/part-redelivered.parquet'
    s3.copy_object(Bucket=bucket, Key=copy, CopySource={'Bucket': bucket, 'Key': written[0]})
    expected = [count for _, count in sorted(Counter(e['timestamp'][:10] for e in sent).items())]
    assert sum(_counts_per_day(stack, key)) > sum(expected)  # the copy is counted until compaction

    # When: the compaction function runs, here by hand for the project (as `python -m local invoke` would)
    result = stack.functions['CompactLakeFunction'].invoke({'project_id': project_id})

    # Then
    assert (result['partitions_compacted'], result['files_written']) == (DAYS, DAYS)
    assert len(lake_keys(stack, prefix)) == DAYS
    assert sorted(lake_rows(stack, project_id)['event_id'].to_pylist()) == sorted(e['event_id'] for e in sent)
    assert _counts_per_day(stack, key) == expected
