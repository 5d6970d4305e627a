"""422 bodies must equal FastAPI's, byte for byte: the seed API is a FastAPI app and its clients parse them.

The reference is FastAPI itself, serving the same request models.
"""

import base64
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functions.get_health.app import app as health_app
from functions.track_batch.app import app as batch_app
from functions.track_event.app import app as track_app
from local.environment import stack_settings
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.models.event import TrackBatchRequest, TrackEventRequest
from tests.unit.serverless_analytics.conftest import http_api_event

reference = FastAPI()


@reference.post('/api/v1/analytics')
def _track(event: TrackEventRequest) -> dict:
    return {}


@reference.post('/api/v1/analytics/batch')
def _batch(batch: TrackBatchRequest) -> dict:
    return {}


@reference.get('/api/v1/analytics/health')
def _health(deep: bool = False) -> dict:
    return {}


client = TestClient(reference)

TRACK_CASES = {
    'missing event_name': '{}',
    'empty body': '',
    'invalid json': '{"event_name": "a",}',
    'array body': '[{"event_name": "a"}]',
    'empty array body': '[]',
    'scalar body': '"hello"',
    'name too long': json.dumps({'event_name': 'n' * 101}),
    'name empty': json.dumps({'event_name': ''}),
    'name not a string': json.dumps({'event_name': 5}),
    'unknown category and priority': json.dumps({'event_name': 'a', 'category': 'x', 'priority': 'y'}),
    'naive timestamp': json.dumps({'event_name': 'a', 'timestamp': '2026-01-01T00:00:00'}),
    'unparseable timestamp': json.dumps({'event_name': 'a', 'timestamp': 'yesterday'}),
    'properties not an object': json.dumps({'event_name': 'a', 'properties': [1, 2]}),
    'properties too deep': json.dumps({'event_name': 'a', 'properties': {'a': {'b': {'c': {'d': {'e': {'f': 1}}}}}}}),
    'bad event id': json.dumps({'event_name': 'a', 'event_id': '123'}),
    'user ids disagree': json.dumps({'event_name': 'a', 'user_id': 'u1', 'user': {'id': 'u2'}}),
    'user groups not a list': json.dumps({'event_name': 'a', 'user': {'groups': 'g'}}),
    'name too long after NaN': '{"properties": {"x": NaN}, "event_name": "' + 'n' * 101 + '"}',
}

BATCH_CASES = {
    'no events': json.dumps({'events': []}),
    'too many events': json.dumps({'events': [{'event_name': 'a'}] * 101}),
    'events missing': json.dumps({'client_id': 'c'}),
    'one bad event': json.dumps({'events': [{'event_name': 'a'}, {'category': 'auth'}]}),
}


def _http_api_event(path: str, body: str, content_type: str | None = 'application/json', method: str = 'POST') -> dict:
    return http_api_event(path, body, {} if content_type is None else {'content-type': content_type}, method)


def _ours(app, path: str, body: str, lambda_context, content_type: str = 'application/json') -> tuple[int, str]:
    # Validation runs before the route body, so an invalid request needs no AWS; no scope skips the key check.
    event = _http_api_event(path, body, content_type)
    response = IngestionApi(None).handle(app, event, lambda_context, stack_settings())
    return int(response['statusCode']), response['body']


def _theirs(path: str, body: str, content_type: str = 'application/json') -> tuple[int, str]:
    response = client.post(path, content=body, headers={'content-type': content_type})
    return response.status_code, response.text


@pytest.mark.parametrize('body', TRACK_CASES.values(), ids=TRACK_CASES.keys())
def test_track_422_equals_fastapi(body, lambda_context):
    ours = _ours(track_app, '/api/v1/analytics', body, lambda_context)
    assert ours[0] == 422
    assert json.loads(ours[1]) == json.loads(_theirs('/api/v1/analytics', body)[1])
    assert ours == _theirs('/api/v1/analytics', body)


@pytest.mark.parametrize('body', BATCH_CASES.values(), ids=BATCH_CASES.keys())
def test_batch_422_equals_fastapi(body, lambda_context):
    ours = _ours(batch_app, '/api/v1/analytics/batch', body, lambda_context)
    assert ours[0] == 422
    assert ours == _theirs('/api/v1/analytics/batch', body)


def test_a_lone_surrogate_is_refused_with_pydantic_error(lambda_context):
    # FastAPI's own answer is a 500 (Starlette cannot encode the surrogate it echoes); ours escapes it.
    status, body = _ours(track_app, '/api/v1/analytics', '{"event_name": "\\ud800"}', lambda_context)

    assert status == 422
    [error] = json.loads(body)['detail']
    assert (error['type'], error['loc'], error['input']) == ('string_unicode', ['body', 'event_name'], '\ud800')


def test_seed_shaped_422_body(lambda_context):
    # The seed documents {"detail":[{"loc","msg","type","input","ctx"}]}; this is its most common case.
    status, body = _ours(track_app, '/api/v1/analytics', json.dumps({'event_name': 'n' * 101}), lambda_context)
    assert status == 422
    assert json.loads(body) == {
        'detail': [
            {
                'type': 'string_too_long',
                'loc': ['body', 'event_name'],
                'msg': 'String should have at most 100 characters',
                'input': 'n' * 101,
                'ctx': {'max_length': 100},
            }
        ]
    }


# What a client may send as Content-Type: FastAPI reads JSON under any case and under `application/*+json`,
# and validates the raw text of any other type (curl -d sends form-urlencoded, sendBeacon text/plain).
CONTENT_TYPES = [
    'APPLICATION/JSON',
    'application/json; charset=utf-8',
    'application/vnd.api+json',
    ' application/json',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'text/json',
    'application/jsonx',
    'json',
]
CONTENT_TYPE_BODIES = {
    'missing event_name': '{}',
    'unknown category': json.dumps({'event_name': 'a', 'category': 'x'}),
    'not json': 'event_name=a',
    'empty body': '',
}


@pytest.mark.parametrize('content_type', CONTENT_TYPES)
@pytest.mark.parametrize('body', CONTENT_TYPE_BODIES.values(), ids=CONTENT_TYPE_BODIES.keys())
def test_422_for_each_content_type_equals_fastapi(content_type, body, lambda_context):
    ours = _ours(track_app, '/api/v1/analytics', body, lambda_context, content_type)
    assert ours[0] == 422
    assert ours == _theirs('/api/v1/analytics', body, content_type)


def test_body_without_content_type_is_read_as_json(lambda_context):
    # FastAPI's strict_content_type (on by default in newer releases) would refuse it; see http.api._is_json.
    event = _http_api_event('/api/v1/analytics', json.dumps({'event_name': 'n' * 101}), content_type=None)
    response = IngestionApi(None).handle(track_app, event, lambda_context, stack_settings())
    assert response['statusCode'] == 422
    assert json.loads(response['body'])['detail'][0]['type'] == 'string_too_long'


@pytest.mark.parametrize(
    ('body', 'content_type'), [('event_name=a', 'text/plain'), ('[{"event_name": "a"}]', 'application/json')]
)
def test_a_body_sent_to_a_route_without_one_is_ignored_as_fastapi_does(body, content_type, lambda_context):
    event = _http_api_event('/api/v1/analytics/health', body, content_type, method='GET')
    ours = IngestionApi(None).handle(health_app, event, lambda_context, stack_settings())
    theirs = client.request('GET', '/api/v1/analytics/health', content=body, headers={'content-type': content_type})
    assert (ours['statusCode'], theirs.status_code) == (200, 200)


UNPARSABLE_BODIES = {
    'not UTF-8': b'{"event_name": "caf\xe9"}',
    'a UTF-8 body with a stray byte': b'{"event_name": "a"}\xff',
    'nested 10,000 levels': b'{"event_name": "a", "properties": ' + b'[' * 10_000 + b']' * 10_000 + b'}',
    'an integer of 5,000 digits where a string goes': b'{"event_name": ' + b'7' * 5_000 + b'}',
}


def _ours_in_bytes(body: bytes, lambda_context) -> tuple[int, str]:
    event = _http_api_event('/api/v1/analytics', base64.b64encode(body).decode()) | {'isBase64Encoded': True}
    response = IngestionApi(None).handle(track_app, event, lambda_context, stack_settings())
    return int(response['statusCode']), response['body']


@pytest.mark.parametrize('body', UNPARSABLE_BODIES.values(), ids=UNPARSABLE_BODIES.keys())
def test_a_body_that_cannot_be_parsed_is_fastapis_400(body, lambda_context):
    ours = _ours_in_bytes(body, lambda_context)
    theirs = client.post('/api/v1/analytics', content=body, headers={'content-type': 'application/json'})
    assert ours == (400, '{"detail":"There was an error parsing the body"}')
    assert ours == (theirs.status_code, theirs.text)


@pytest.mark.parametrize('encoding', ['utf-16', 'utf-16-le', 'utf-32'])
def test_a_body_in_another_json_encoding_is_read_as_fastapi_reads_it(encoding, lambda_context):
    body = json.dumps({'event_name': 'n' * 101}).encode(encoding)
    ours = _ours_in_bytes(body, lambda_context)
    theirs = client.post('/api/v1/analytics', content=body, headers={'content-type': 'application/json'})
    assert ours[0] == 422
    assert ours == (theirs.status_code, theirs.text)
