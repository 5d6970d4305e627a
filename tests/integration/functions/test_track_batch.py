import hashlib
import json

import pytest

from functions.track_batch.app import lambda_handler
from tests.conftest import load_event
from tests.integration.conftest import counters, invoke, stream_records, with_body


def test_batch_is_queued_in_order_with_its_client_id(aws, lambda_context):
    # Given
    event = load_event('track_batch')
    sent = json.loads(event['body'])['events']

    # When
    status, body = invoke(lambda_handler, event, lambda_context)

    # Then
    assert status == 200
    assert {k: body[k] for k in ('success', 'events_received', 'events_queued', 'events_failed')} == {
        'success': True,
        'events_received': 3,
        'events_queued': 3,
        'events_failed': 0,
    }
    queued = [json.loads(record['Data']) for record in stream_records(aws)]
    assert [q['event_id'] for q in queued] == [e['event_id'] for e in sent]
    assert {q['client_id'] for q in queued} == {'web-sdk-2.3.1'}
    assert [json.loads(q['properties']) for q in queued] == [e.get('properties', {}) for e in sent]
    assert counters(aws)['pipeline']['accepted'] == 3


def test_one_invalid_event_rejects_the_whole_batch_with_its_index(aws, lambda_context):
    body = {'events': [{'event_name': 'ok'}, {'event_name': 'x' * 101}]}
    status, answer = invoke(lambda_handler, with_body('track_batch', body), lambda_context)

    assert status == 422
    assert [(d['loc'], d['type']) for d in answer['detail']] == [
        (['body', 'events', 1, 'event_name'], 'string_too_long')
    ]
    assert stream_records(aws) == []


def test_events_that_fail_after_retries_are_counted_failed_never_queued(aws, lambda_context):
    # Given: Kinesis answers every PutRecords entry with ProvisionedThroughputExceeded
    aws.moto.kinesis_faults.throttle_records(10_000)  # the aws fixture clears faults before each test

    status, body = invoke(lambda_handler, load_event('track_batch'), lambda_context)

    assert status == 200
    assert (body['success'], body['events_queued'], body['events_failed']) == (False, 0, 3)
    assert 'resend' in body['message']
    assert stream_records(aws) == []
    assert 'accepted' not in counters(aws).get('pipeline', {})


def test_throttled_entries_are_retried_and_then_land(aws, lambda_context):
    # Given: the first two entries sent are throttled, as Kinesis does under load (HTTP 200, FailedRecordCount 2)
    aws.moto.kinesis_faults.throttle_records(2)  # the aws fixture clears faults before each test

    status, body = invoke(lambda_handler, load_event('track_batch'), lambda_context)

    assert (status, body['success'], body['events_queued'], body['events_failed']) == (200, True, 3, 0)
    queued = sorted(json.loads(r['Data'])['event_id'] for r in stream_records(aws))
    assert queued == sorted(e['event_id'] for e in json.loads(load_event('track_batch')['body'])['events'])


def test_a_session_id_too_long_for_a_partition_key_still_lands_with_its_batch(aws, lambda_context):
    # Given: one event whose `project:session` key would pass Kinesis' 256-character limit
    events = json.loads(load_event('track_batch')['body'])['events']
    long_session = 's' * 256
    events[1]['session_id'] = long_session

    # When
    status, body = invoke(lambda_handler, with_body('track_batch', {'events': events}), lambda_context)

    # Then: every event is queued, the long session under its digest, the others as they are
    assert (status, body['events_queued'], body['events_failed']) == (200, 3, 0)
    keys = {json.loads(r['Data'])['session_id']: r['PartitionKey'] for r in stream_records(aws)}
    assert keys[long_session] == f'1:{hashlib.sha256(long_session.encode()).hexdigest()}'
    assert all(key == f'1:{session}' for session, key in keys.items() if session != long_session)


def test_an_unparsable_page_url_does_not_fail_the_batch(aws, lambda_context):
    events = [{'event_name': 'a', 'page_url': 'http://[invalid/'}, {'event_name': 'b', 'page_url': 'https://x.test/p'}]

    status, body = invoke(lambda_handler, with_body('track_batch', {'events': events}), lambda_context)

    assert (status, body['events_queued'], body['events_failed']) == (200, 2, 0)
    queued = [json.loads(r['Data']) for r in stream_records(aws)]  # on two shards: no order between them
    assert {q['name']: (q['page_url'], q.get('page_host'), q.get('page_path')) for q in queued} == {
        'a': ('http://[invalid/', None, None),
        'b': ('https://x.test/p', 'x.test', '/p'),
    }


def test_nan_in_one_events_properties_refuses_the_batch_with_its_index(aws, lambda_context):
    body = '{"events": [{"event_name": "a"}, {"event_name": "b", "properties": {"x": {"y": Infinity}}}]}'

    response = lambda_handler(with_body('track_batch', body), lambda_context)

    assert response['statusCode'] == 422
    [error] = json.loads(response['body'], parse_constant=lambda constant: pytest.fail(f'{constant} in the answer'))[
        'detail'
    ]
    assert (error['loc'], error['type'], error['input']) == (
        ['body', 'events', 1, 'properties'],
        'finite_number',
        {'x': {'y': 'Infinity'}},
    )
    assert stream_records(aws) == []
