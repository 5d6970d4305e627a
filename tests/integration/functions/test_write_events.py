import base64
import copy
import json
from collections import Counter

from functions.write_events.app import lambda_handler
from tests import aws_reads
from tests.conftest import load_event
from tests.integration.conftest import counters


def _sent(event: dict) -> list[dict]:
    return [json.loads(base64.b64decode(r['kinesis']['data'])) for r in event['Records']]


def _lake_rows(aws, prefix: str = 'events/') -> tuple[list[str], list[dict]]:
    s3, bucket = aws.client('s3'), aws.name('LakeBucket')
    keys = aws_reads.object_keys(s3, bucket, prefix)
    rows = aws_reads.parquet_rows(s3, bucket, prefix, keys)
    return keys, rows.to_pylist() if rows is not None else []


def test_batch_lands_in_the_lake_and_the_counters(aws, lambda_context):
    # Given
    event = load_event('write_events')
    sent = _sent(event)

    # When
    response = lambda_handler(event, lambda_context)

    # Then: no failures, one Parquet file per project and UTC day, every event once
    assert response == {'batchItemFailures': []}
    keys, rows = _lake_rows(aws)
    assert len(keys) == 1
    assert keys[0].startswith('events/project_id=1/dt=2026-11-22/part-')
    assert sorted(r['event_id'] for r in rows) == sorted(e['event_id'] for e in sent)
    assert {r['event_id']: r['name'] for r in rows} == {e['event_id']: e['name'] for e in sent}
    assert 'project_id' not in rows[0]
    # ...and counters that match the events, computed here from what was sent
    stored = counters(aws)
    assert stored['total']['events'] == 3
    assert {k.removeprefix('cat_'): v for k, v in stored['total'].items() if k.startswith('cat_')} == Counter(
        e['category'] for e in sent
    )
    assert stored['day#2026-11-22']['events'] == 3
    assert Counter({k: v['events'] for k, v in stored.items() if k.startswith('hour#')}) == Counter(
        f'hour#{e["timestamp"][:13]}' for e in sent
    )
    assert 'duplicates' not in stored['pipeline'] and 'last_flush' in stored['pipeline']


def test_a_replayed_batch_changes_nothing(aws, lambda_context):
    event = load_event('write_events')
    lambda_handler(event, lambda_context)
    keys_before, rows_before = _lake_rows(aws)
    counters_before = counters(aws)

    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}

    keys_after, rows_after = _lake_rows(aws)
    assert keys_after == keys_before
    assert len(rows_after) == len(rows_before) == 3
    after = counters(aws)
    assert {k: v for k, v in after.items() if k != 'pipeline'} == {
        k: v for k, v in counters_before.items() if k != 'pipeline'
    }
    assert {k: v for k, v in after['pipeline'].items() if k != 'last_flush'} == {
        k: v for k, v in counters_before['pipeline'].items() if k != 'last_flush'
    }


def test_a_redelivery_in_a_different_batch_adds_only_the_new_records_to_the_lake(aws, lambda_context):
    # Given: a written batch, then a batch that starts with its last record (as after a partial failure)
    # and carries a record not seen before
    first = load_event('write_events')
    lambda_handler(first, lambda_context)
    _, rows_before = _lake_rows(aws)
    fresh = copy.deepcopy(first['Records'][0])
    body = {**_sent({'Records': [fresh]})[0], 'event_id': '9b0f3c6e-0d1a-4a43-9d51-3f5a3f0b7e11'}
    fresh['kinesis']['data'] = base64.b64encode(json.dumps(body).encode()).decode()
    fresh['kinesis']['sequenceNumber'] = '49590338271490256608559692540925702759324208523137515620'
    second = {'Records': [first['Records'][-1], fresh]}

    # When
    assert lambda_handler(second, lambda_context) == {'batchItemFailures': []}

    # Then: every event is in the lake exactly once, and counted once
    _, rows = _lake_rows(aws)
    assert Counter(r['event_id'] for r in rows) == Counter([*(r['event_id'] for r in rows_before), body['event_id']])
    assert counters(aws)['total']['events'] == len(rows_before) + 1


def _retried(record: dict, sequence: int) -> dict:
    """The same event in a new stream record, as when a client sends it again."""
    retry = copy.deepcopy(record)
    retry['kinesis']['sequenceNumber'] = f'{49657000000000000000000000000000000000000000000000000000 + sequence}'
    retry['eventID'] = f'shardId-000000000000:{retry["kinesis"]["sequenceNumber"]}'
    return retry


def test_a_client_retry_with_the_same_event_id_is_counted_once(aws, lambda_context):
    # Given: a second stream record (new sequence number) carrying an event id already written
    event = load_event('write_events')
    lambda_handler(event, lambda_context)
    retry = {'Records': [_retried(event['Records'][0], 99)]}

    # When: it arrives, and then arrives again (redelivery)
    assert lambda_handler(retry, lambda_context) == {'batchItemFailures': []}
    assert lambda_handler(retry, lambda_context) == {'batchItemFailures': []}

    # Then
    _, rows = _lake_rows(aws)
    assert len(rows) == 3
    assert counters(aws)['pipeline']['duplicates'] == 1
    assert counters(aws)['total']['events'] == 3


def test_many_client_retries_are_each_counted_once_across_transactions(aws, lambda_context):
    # Given: a written batch, then 120 client retries of its events, of which the first 40 were counted before
    event = load_event('write_events')
    lambda_handler(event, lambda_context)
    retries = [_retried(event['Records'][i % 3], i) for i in range(120)]
    assert lambda_handler({'Records': retries[:40]}, lambda_context) == {'batchItemFailures': []}

    # When: all of them arrive, with the original records redelivered among them
    batch = {'Records': [*event['Records'], *retries]}
    assert lambda_handler(batch, lambda_context) == {'batchItemFailures': []}

    # Then: each retry is one duplicate, with one marker; the events are counted and in the lake once
    stored = counters(aws)
    assert stored['pipeline']['duplicates'] == 120
    assert stored['total']['events'] == 3
    _, rows = _lake_rows(aws)
    assert len(rows) == 3
    items = aws_reads.scan_items(aws.client('dynamodb'), aws.name('EventsTable'))
    assert sorted(i['pk']['S'] for i in items if i['pk']['S'].startswith('seq#')) == sorted(
        f'seq#{r["eventID"]}'.replace(':', '#') for r in retries
    )


def test_one_new_event_sent_five_times_in_a_batch_is_written_once_and_four_duplicates_counted(aws, lambda_context):
    # Given: a batch holding five records of one event not written before
    record = load_event('write_events')['Records'][0]
    batch = {'Records': [_retried(record, i) for i in range(5)]}

    # When: it arrives, and is redelivered whole
    assert lambda_handler(batch, lambda_context) == {'batchItemFailures': []}
    assert lambda_handler(batch, lambda_context) == {'batchItemFailures': []}

    # Then
    _, rows = _lake_rows(aws)
    assert [r['event_id'] for r in rows] == [_sent({'Records': [record]})[0]['event_id']]
    stored = counters(aws)
    assert stored['total']['events'] == 1
    assert stored['pipeline']['duplicates'] == 4


def test_a_poison_record_is_quarantined_with_its_raw_bytes_and_the_rest_lands(aws, lambda_context):
    event = load_event('write_events_poison')
    raw = base64.b64decode(event['Records'][1]['kinesis']['data'])

    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}
    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}  # redelivered: still counted once

    s3, bucket = aws.client('s3'), aws.name('LakeBucket')
    [quarantined] = aws_reads.object_keys(s3, bucket, 'quarantine/')
    assert quarantined.endswith('/shardId-000000000000/49657000000000000000000000000000000000000000000000000009.json')
    stored = s3.get_object(Bucket=bucket, Key=quarantined)
    assert stored['Body'].read() == raw
    assert 'schema' in stored['Metadata']['reason'] or 'JSON' in stored['Metadata']['reason']
    _, rows = _lake_rows(aws)
    assert [r['event_id'] for r in rows] == [_sent({'Records': event['Records'][:1]})[0]['event_id']]
    assert counters(aws)['pipeline']['quarantined'] == 1
    assert counters(aws)['total']['events'] == 1


def test_a_record_with_a_field_the_schema_does_not_know_is_quarantined_not_written_without_it(aws, lambda_context):
    # Given: the sample batch, one record of which comes from a producer that knows a field this writer does not
    event = load_event('write_events')
    newer = event['Records'][1]
    body = {**_sent({'Records': [newer]})[0], 'plan': 'pro'}
    newer['kinesis']['data'] = base64.b64encode(json.dumps(body).encode()).decode()

    # When: it arrives, and is redelivered
    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}
    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}

    # Then: the record is kept whole in quarantine, with the field named, and counted once
    s3, bucket = aws.client('s3'), aws.name('LakeBucket')
    [quarantined] = aws_reads.object_keys(s3, bucket, 'quarantine/')
    assert quarantined.endswith(f'/shardId-000000000000/{newer["kinesis"]["sequenceNumber"]}.json')
    stored = s3.get_object(Bucket=bucket, Key=quarantined)
    assert json.loads(stored['Body'].read()) == body
    assert stored['Metadata']['reason'] == 'record has fields the event schema does not know: plan'
    assert counters(aws)['pipeline']['quarantined'] == 1
    # ...and the other records land and are counted as usual
    _, rows = _lake_rows(aws)
    others = [e for e in _sent(event) if e['event_id'] != body['event_id']]
    assert sorted(r['event_id'] for r in rows) == sorted(e['event_id'] for e in others)
    assert counters(aws)['total']['events'] == len(others) == 2


def test_a_dynamodb_outage_reports_the_records_for_redelivery_and_counts_nothing(aws, lambda_context):
    event = load_event('write_events')
    aws.client('dynamodb').delete_table(TableName=aws.name('EventsTable'))

    response = lambda_handler(event, lambda_context)

    assert sorted(f['itemIdentifier'] for f in response['batchItemFailures']) == sorted(
        r['kinesis']['sequenceNumber'] for r in event['Records']
    )
    assert counters(aws) == {}


def test_a_concurrent_delivery_of_the_same_record_is_not_counted_as_a_duplicate(aws, lambda_context):
    # Given: another delivery of this very record (a second writer instance after a timeout) stores the event
    # just after this one has looked it up, so this one plans an insert, and its insert then meets the event
    from serverless_analytics.adapters.clients import client

    record = load_event('write_events')['Records'][0]
    sent = _sent({'Records': [record]})[0]
    record_id = f'{record["eventID"].partition(":")[0]}#{record["kinesis"]["sequenceNumber"]}'
    other_writer = aws.client('dynamodb')

    fired = []

    def written_meanwhile(**_):
        fired.append(True)
        other_writer.put_item(
            TableName=aws.name('EventsTable'),
            Item={
                'pk': {'S': f'{sent["project_id"]}#{sent["event_id"]}'},
                'written_by': {'S': record_id},
                'expires_at': {'N': '4102444800'},
            },
        )

    writer_clients = [client('dynamodb'), client('dynamodb', validated=False)]  # whichever the lookup goes through
    for events in (c.meta.events for c in writer_clients):
        events.register('after-call.dynamodb.BatchGetItem', written_meanwhile)
    try:
        # When
        response = lambda_handler({'Records': [record]}, lambda_context)
    finally:
        for events in (c.meta.events for c in writer_clients):
            events.unregister('after-call.dynamodb.BatchGetItem', written_meanwhile)

    # Then: the event is this record's own, not a duplicate of it, and is counted by the writer that stored it
    assert fired == [True]
    assert response == {'batchItemFailures': []}
    assert 'duplicates' not in counters(aws).get('pipeline', {})
    assert 'total' not in counters(aws)  # this writer's insert met the stored event: nothing counted twice
