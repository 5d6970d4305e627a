import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from functions.track_event.app import lambda_handler
from serverless_analytics.config import get_settings
from serverless_analytics.logic.api_keys import create_key, key_id_of, revoke_key
from serverless_analytics.models.api_key import Scope
from tests.conftest import load_event
from tests.integration.conftest import counters, invoke, stream_records, with_body, with_headers


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def test_event_is_enriched_and_queued(aws, lambda_context):
    # Given
    event = load_event('track_event')
    sent = json.loads(event['body'])

    # When
    status, body = invoke(lambda_handler, event, lambda_context)

    # Then: the seed response
    assert status == 200
    assert body['success'] is True
    assert body['event_id'] == sent['event_id']
    assert body['message'] == 'Event tracked successfully'
    # ...and one record on the stream, keyed by project and session, enriched by the server
    [record] = stream_records(aws)
    assert record['PartitionKey'] == '1:sess_5f2c9a'
    queued = json.loads(record['Data'])
    assert queued['project_id'] == '1'
    assert queued['name'] == 'checkout_completed'
    assert queued['user_ip'] == '203.0.113.0'
    assert (queued['browser_family'], queued['os_family']) == ('Chrome', 'Windows')
    assert (queued['page_host'], queued['page_path']) == ('shop.example.com', '/checkout/confirm')
    assert (queued['user_id'], queued['user_groups'], queued['tenant_id']) == ('user_1042', ['beta'], 'acme')
    assert json.loads(queued['properties']) == sent['properties']
    # the client's clock is corrected: the event happened 883 ms before the server received it
    assert _when(queued['received_at']) - _when(queued['timestamp']) == timedelta(milliseconds=883)
    assert counters(aws)['pipeline']['accepted'] == 1


def test_minimal_seed_event_gets_defaults(aws, lambda_context):
    status, body = invoke(lambda_handler, load_event('track_event_minimal'), lambda_context)

    assert status == 200
    [record] = stream_records(aws)
    queued = json.loads(record['Data'])
    assert (queued['category'], queued['priority'], queued['properties']) == ('user_action', 'medium', '{}')
    assert queued['event_id'] == body['event_id']
    assert queued['timestamp'] == queued['received_at']


def test_invalid_event_answers_fastapi_422_and_queues_nothing(aws, lambda_context):
    status, body = invoke(lambda_handler, load_event('track_event_invalid'), lambda_context)

    assert status == 422
    assert body == {
        'detail': [
            {
                'type': 'string_too_short',
                'loc': ['body', 'event_name'],
                'msg': 'String should have at least 1 character',
                'input': '',
                'ctx': {'min_length': 1},
            },
            {
                'type': 'literal_error',
                'loc': ['body', 'category'],
                'msg': "Input should be 'page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature' or 'system'",
                'input': 'clicks',
                'ctx': {
                    'expected': "'page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature' or 'system'"
                },
            },
            {
                'type': 'timezone_aware',
                'loc': ['body', 'timestamp'],
                'msg': 'Input should have timezone info',
                'input': '2026-11-22T06:39:58',
            },
        ]
    }
    assert stream_records(aws) == []


def test_missing_credential_is_401(aws, lambda_context):
    event = load_event('track_event_unauthenticated')
    response = lambda_handler(event, lambda_context)

    assert response['statusCode'] == 401
    assert json.loads(response['body']) == {'detail': 'Not authenticated'}
    assert response['headers']['WWW-Authenticate'] == 'Bearer'


def test_unknown_and_revoked_keys_are_401(aws, lambda_context):
    assert invoke(lambda_handler, with_headers('track_event', authorization='Bearer nope'), lambda_context) == (
        401,
        {'detail': 'Invalid API key'},
    )
    assert revoke_key(get_settings(), key_id_of('local-dev-key'))
    assert invoke(lambda_handler, load_event('track_event'), lambda_context)[0] == 401
    assert stream_records(aws) == []


def test_key_without_ingest_scope_is_403(aws, lambda_context):
    key, _ = create_key(get_settings(), '1', [Scope.READ], 'dashboards')
    status, body = invoke(lambda_handler, with_headers('track_event', authorization=f'Bearer {key}'), lambda_context)

    assert status == 403
    assert body == {'detail': "API key lacks the 'ingest' scope"}


def test_gitlab_and_coder_credential_headers_are_accepted(aws, lambda_context):
    for header in ('private-token', 'coder-session-token'):
        event = with_headers('track_event_minimal', authorization=None, **{header: 'local-dev-key'})
        assert invoke(lambda_handler, event, lambda_context)[0] == 200
    assert len(stream_records(aws)) == 2


def test_body_over_the_cap_is_413_before_parsing(aws, lambda_context):
    huge = json.dumps({'event_name': 'x', 'properties': {'blob': 'x' * 1_100_000}})
    status, body = invoke(lambda_handler, with_body('track_event', huge), lambda_context)

    assert status == 413
    assert body == {'detail': 'Request body is larger than 1048576 bytes'}


def test_event_that_cannot_be_queued_is_503_not_success(aws, lambda_context):
    # Given: the stream is gone (every PutRecords call fails)
    aws.client('kinesis').delete_stream(StreamName=aws.name('EventsStream'))

    status, body = invoke(lambda_handler, load_event('track_event'), lambda_context)

    assert status == 503
    assert 'retry' in body['detail']
    assert 'accepted' not in counters(aws).get('pipeline', {})


@pytest.mark.parametrize('content_type', ['application/vnd.api+json', 'APPLICATION/JSON', None])
def test_json_body_under_other_json_content_types_is_queued(aws, lambda_context, content_type):
    # FastAPI reads these as JSON too (and we read a body without a content type as JSON).
    event = with_headers('track_event_minimal', **{'content-type': content_type})

    status, body = invoke(lambda_handler, event, lambda_context)

    assert status == 200, body
    [record] = stream_records(aws)
    assert json.loads(record['Data'])['event_id'] == body['event_id']


def test_form_encoded_body_is_refused_like_fastapi_and_queues_nothing(aws, lambda_context):
    # curl -d without -H 'Content-Type: application/json' sends the JSON text as form data.
    event = with_headers('track_event_minimal', **{'content-type': 'application/x-www-form-urlencoded'})

    status, body = invoke(lambda_handler, event, lambda_context)

    assert status == 422
    assert body['detail'][0]['type'] == 'model_attributes_type'
    assert body['detail'][0]['input'] == load_event('track_event_minimal')['body']
    assert stream_records(aws) == []


def _strict(text: str) -> Any:
    """JSON as `JSON.parse` reads it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f'{constant} is not JSON')

    return json.loads(text, parse_constant=refuse)


def test_a_timestamp_whose_offset_leaves_datetime_range_is_422(aws, lambda_context):
    # Year 1 at +14:00 is year 0 in UTC, which datetime cannot hold (this was an OverflowError, a 5xx)
    event = with_body('track_event', {'event_name': 'a', 'timestamp': '0001-01-01T00:00:00+14:00'})

    status, body = invoke(lambda_handler, event, lambda_context)

    assert (status, body) == (
        422,
        {
            'detail': [
                {
                    'type': 'greater_than_equal',
                    'loc': ['body', 'timestamp'],
                    'msg': 'Input should be greater than or equal to 1970-01-01T00:00:00Z',
                    'input': '0001-01-01T00:00:00+14:00',
                    'ctx': {'ge': '1970-01-01T00:00:00Z'},
                }
            ]
        },
    )
    assert stream_records(aws) == []


def test_a_sent_at_correction_that_would_overflow_is_422(aws, lambda_context):
    body = {'event_name': 'a', 'timestamp': '0001-01-01T00:00:00Z', 'sent_at': '9999-01-01T00:00:00Z'}

    status, answer = invoke(lambda_handler, with_body('track_event', body), lambda_context)

    assert status == 422
    assert [(d['loc'], d['type'], d['input']) for d in answer['detail']] == [
        (['body', 'sent_at'], 'less_than', '9999-01-01T00:00:00Z'),
        (['body', 'timestamp'], 'greater_than_equal', '0001-01-01T00:00:00Z'),
    ]
    assert stream_records(aws) == []


@pytest.mark.parametrize('stamp', [123, '1999-12-31T23:59:59Z'])
def test_an_event_time_before_2000_is_422(aws, lambda_context, stamp):
    status, answer = invoke(
        lambda_handler, with_body('track_event', {'event_name': 'a', 'timestamp': stamp}), lambda_context
    )

    assert status == 422
    [error] = answer['detail']
    assert (error['loc'], error['type'], error['ctx']['ge']) == (
        ['body', 'timestamp'],
        'greater_than_equal',
        '2000-01-01T00:00:00Z',
    )
    assert stream_records(aws) == []


def test_nan_in_properties_is_422_and_the_answer_is_valid_json(aws, lambda_context):
    event = with_body('track_event', '{"event_name": "a", "properties": {"score": [1, NaN], "limit": -Infinity}}')

    response = lambda_handler(event, lambda_context)

    assert response['statusCode'] == 422
    assert _strict(response['body']) == {
        'detail': [
            {
                'type': 'finite_number',
                'loc': ['body', 'properties'],
                'msg': 'properties should hold finite numbers only (JSON has no NaN or Infinity): '
                'properties.score[1] is NaN',
                'input': {'score': [1, 'NaN'], 'limit': '-Infinity'},
                'ctx': {'path': 'properties.score[1]', 'value': 'NaN'},
            }
        ]
    }
    assert stream_records(aws) == []


def test_a_page_url_that_does_not_parse_is_queued_without_host_or_path(aws, lambda_context):
    event = with_body('track_event', {'event_name': 'a', 'page_url': 'http://[invalid/'})

    status, body = invoke(lambda_handler, event, lambda_context)

    assert (status, body['success']) == (200, True)
    [record] = stream_records(aws)
    queued = json.loads(record['Data'])
    assert queued['page_url'] == 'http://[invalid/'
    assert 'page_host' not in queued and 'page_path' not in queued  # null fields are left out of the record
