"""Lake compaction against moto: partitions written by the real stream writer, compacted by the real handler."""

import io
from collections import defaultdict
from datetime import datetime

import pyarrow.parquet as pq
import pydantic
import pytest

from functions.compact_lake.app import lambda_handler
from local import demo_data
from local.runtime import LocalFunction
from tests import aws_reads
from tests.conftest import load_event
from tests.integration.conftest import TEMPLATE, ingest

NOW = datetime.fromisoformat('2026-11-22T12:00:00+00:00')
QUARANTINED = 'quarantine/dt=2026-11-22/shardId-000000000000/1.json'


@pytest.fixture
def context():
    """The function's context as Lambda gives it: its template timeout is the time the run may take."""
    return LocalFunction(TEMPLATE.function('CompactLakeFunction')).context()


def _lake(aws) -> dict[str, bytes]:
    s3, bucket = aws.client('s3'), aws.name('LakeBucket')
    keys = aws_reads.object_keys(s3, bucket, 'events/')
    return {key: s3.get_object(Bucket=bucket, Key=key)['Body'].read() for key in keys}


def _by_partition(lake: dict[str, bytes]) -> dict[str, list[str]]:
    partitions = defaultdict(list)
    for key in lake:
        folder, name = key.rsplit('/', 1)
        partitions[folder].append(name)
    return partitions


def _rows(lake: dict[str, bytes]) -> list[dict]:
    return [row for body in lake.values() for row in pq.read_table(io.BytesIO(body)).to_pylist()]


def _written_in_rounds(aws, lambda_context, rounds: int = 3, per_round: int = 60) -> list[dict]:
    """Events sent in several batches, so each partition (project and day) gets several writer files."""
    events = demo_data.generate(rounds * per_round, days=3, seed=11, now=NOW)
    for start in range(0, len(events), per_round):
        ingest(aws, events[start : start + per_round], lambda_context)
    return events


def _copy(aws, key: str, new_key: str) -> None:
    s3, bucket = aws.client('s3'), aws.name('LakeBucket')
    s3.copy_object(Bucket=bucket, Key=new_key, CopySource={'Bucket': bucket, 'Key': key})


def test_a_scheduled_run_leaves_one_file_per_partition_with_every_event_once(aws, lambda_context, context):
    # Given: partitions of several writer files, one file there twice (as a redelivery after a failed
    # DynamoDB write can leave it, under another name), and a quarantined record beside the lake
    sent = _written_in_rounds(aws, lambda_context)
    before = _lake(aws)
    copied = next(key for key in before if key.endswith('.parquet'))
    _copy(aws, copied, copied.rsplit('/', 1)[0] + '/part-redelivered.parquet')
    aws.client('s3').put_object(Bucket=aws.name('LakeBucket'), Key=QUARANTINED, Body=b'{"not": "an event"')
    partitions = _by_partition(before)
    assert max(len(files) for files in partitions.values()) > 1

    # When
    result = lambda_handler(load_event('compact_lake'), context)

    # Then: one compacted file per partition that had several, each event once, every column as sent
    after = _lake(aws)
    several = {folder for folder, files in partitions.items() if len(files) > 1} | {copied.rsplit('/', 1)[0]}
    assert result == {
        'partitions_compacted': len(several),
        'partitions_failed': 0,
        'partitions_left': 0,
        'files_replaced': sum(len(partitions[folder]) for folder in several) + 1,
        'files_written': len(several),
        'duplicates_dropped': pq.read_table(io.BytesIO(before[copied])).num_rows,
    }
    for folder, files in _by_partition(after).items():
        assert len(files) == 1
        assert files[0].startswith('compacted-') == (folder in several)
    rows = _rows(after)
    assert sorted(row['event_id'] for row in rows) == sorted(event['event_id'] for event in sent)
    by_id = {event['event_id']: event for event in sent}
    for row in rows:
        event = by_id[row['event_id']]
        assert (row['name'], row['category'], row['session_id']) == (
            event['event_name'],
            event['category'],
            event['session_id'],
        )
        assert row['timestamp'] == datetime.fromisoformat(event['timestamp'].replace('Z', '+00:00'))
    assert aws.client('s3').get_object(Bucket=aws.name('LakeBucket'), Key=QUARANTINED)['Body'].read()


def test_a_second_run_changes_nothing(aws, lambda_context, context):
    _written_in_rounds(aws, lambda_context)
    lambda_handler(load_event('compact_lake'), context)
    compacted = _lake(aws)

    result = lambda_handler(load_event('compact_lake'), context)

    assert set(result.values()) == {0}
    assert _lake(aws) == compacted


def test_a_run_by_hand_compacts_only_the_project_and_days_it_names(aws, lambda_context, context):
    # Given: project 1's partitions each of several files (events/compact_lake_by_hand.json names two days)
    _written_in_rounds(aws, lambda_context)
    before = _by_partition(_lake(aws))
    request = load_event('compact_lake_by_hand')
    named = {f'events/project_id={request["project_id"]}/dt={day}' for day in request['dates']}
    assert named <= set(before)

    result = lambda_handler(request, context)

    after = _by_partition(_lake(aws))
    assert result['partitions_compacted'] == len(named)
    assert {folder for folder in after if after[folder] != before[folder]} == named
    assert all(len(after[folder]) == 1 for folder in named)


def test_a_wrong_request_by_hand_is_refused_and_changes_nothing(aws, lambda_context, context):
    _written_in_rounds(aws, lambda_context, rounds=2)
    before = _lake(aws)

    with pytest.raises(pydantic.ValidationError) as refused:
        lambda_handler({'project_id': '1', 'dates': ['2026-13-01']}, context)

    assert refused.value.errors()[0]['loc'] == ('dates', 0)
    assert _lake(aws) == before


def test_when_time_runs_short_the_rest_is_left_for_the_next_run(aws, lambda_context):
    _written_in_rounds(aws, lambda_context)
    before = _lake(aws)
    several = sum(1 for files in _by_partition(before).values() if len(files) > 1)
    short = LocalFunction(TEMPLATE.function('CompactLakeFunction')).context()
    short.timeout_seconds = 60  # less than the reserve a partition is started with

    result = lambda_handler(load_event('compact_lake'), short)

    assert (result['partitions_compacted'], result['partitions_left']) == (0, several)
    assert _lake(aws) == before


def test_an_unreadable_file_fails_its_partition_only_and_nothing_is_deleted_there(aws, lambda_context, context):
    _written_in_rounds(aws, lambda_context)
    before = _lake(aws)
    broken_folder = sorted(_by_partition(before))[0]
    aws.client('s3').put_object(
        Bucket=aws.name('LakeBucket'), Key=f'{broken_folder}/part-broken.parquet', Body=b'not parquet'
    )
    partitions = _by_partition(_lake(aws))

    result = lambda_handler(load_event('compact_lake'), context)

    after = _by_partition(_lake(aws))
    assert result['partitions_failed'] == 1
    assert after[broken_folder] == partitions[broken_folder]
    assert all(len(files) == 1 for folder, files in after.items() if folder != broken_folder)


def test_a_small_file_whose_events_a_big_file_holds_is_deleted_and_nothing_written(
    aws, lambda_context, context, override_settings
):
    # Given: compacted partitions, then into one of them a small file of two of its events again
    _written_in_rounds(aws, lambda_context)
    lambda_handler(load_event('compact_lake'), context)
    compacted = _lake(aws)
    key, body = max(compacted.items(), key=lambda item: len(item[1]))
    again = pq.read_table(io.BytesIO(body)).slice(0, 2)
    sink = io.BytesIO()
    pq.write_table(again, sink)
    aws.client('s3').put_object(
        Bucket=aws.name('LakeBucket'), Key=key.rsplit('/', 1)[0] + '/part-again.parquet', Body=sink.getvalue()
    )
    assert len(sink.getvalue()) < len(body)
    override_settings(LAKE_COMPACTION_TARGET_BYTES=str(len(body)))  # the compacted file is at the target size

    result = lambda_handler(load_event('compact_lake'), context)

    assert (result['partitions_compacted'], result['files_replaced'], result['files_written']) == (1, 1, 0)
    assert result['duplicates_dropped'] == 2
    assert _lake(aws) == compacted


@pytest.fixture
def s3_calls():
    """The handler's S3 calls, as (operation, parameters), seen on its own boto3 client."""
    from serverless_analytics.adapters.clients import client

    calls = []

    def record(model, params, **_):
        calls.append((model.name, params))

    client('s3').meta.events.register('provide-client-params.s3.*', record)
    yield calls
    client('s3').meta.events.unregister('provide-client-params.s3.*', record)


def test_each_small_file_is_fetched_once_and_a_run_by_hand_lists_only_its_folders(
    aws, lambda_context, context, s3_calls
):
    _written_in_rounds(aws, lambda_context)
    request = load_event('compact_lake_by_hand')
    named = [f'events/project_id={request["project_id"]}/dt={day}/' for day in request['dates']]
    inputs = [key for key in _lake(aws) if key.startswith(tuple(named))]

    lambda_handler(request, context)

    listed = [params['Prefix'] for operation, params in s3_calls if operation == 'ListObjectsV2']
    fetched = [params['Key'] for operation, params in s3_calls if operation == 'GetObject']
    assert listed == named
    assert sorted(fetched) == sorted(inputs)
