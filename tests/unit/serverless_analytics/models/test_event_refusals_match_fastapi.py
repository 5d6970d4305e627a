"""The ingestion models' time-window and non-finite-number refusals answer exactly as FastAPI serving the same
models does (the seed API is a FastAPI app). Bodies whose answer depends on the wall clock (a `sent_at` correction)
and bodies FastAPI itself cannot answer (nesting past its parser, a lone surrogate echoed) are asserted exactly in
tests/integration/functions/test_track_*.py and test_event.py instead."""

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

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


client = TestClient(reference)

TRACK_CASES = {
    'year 1 at +14:00': json.dumps({'event_name': 'a', 'timestamp': '0001-01-01T00:00:00+14:00'}),
    'year 9999 at -14:00': json.dumps({'event_name': 'a', 'timestamp': '9999-12-31T23:59:59-14:00'}),
    'year 1 sent in 9999': json.dumps(
        {'event_name': 'a', 'timestamp': '0001-01-01T00:00:00Z', 'sent_at': '9999-01-01T00:00:00Z'}
    ),
    'unix 123': json.dumps({'event_name': 'a', 'timestamp': 123}),
    'unix -10**12': json.dumps({'event_name': 'a', 'timestamp': -(10**12)}),
    'the last second of 1999': json.dumps({'event_name': 'a', 'timestamp': '1999-12-31T23:59:59Z'}),
    'NaN deep in properties': '{"event_name": "a", "properties": {"a": [{"b": NaN}]}}',
    'Infinity and 1e400': '{"event_name": "a", "properties": {"a": Infinity, "b": 1e400}}',
}
BATCH_CASES = {
    'NaN in the second event': '{"events": [{"event_name": "a"}, {"event_name": "b", "properties": {"x": -Infinity}}]}',
}


def _ours(app, path: str, body: str, lambda_context) -> tuple[int, str]:
    # Validation runs before the route body, so an invalid request needs no AWS; no scope skips the key check.
    event = http_api_event(path, body, {'content-type': 'application/json'}, 'POST')
    response = IngestionApi(None).handle(app, event, lambda_context, stack_settings())
    return int(response['statusCode']), response['body']


def _theirs(path: str, body: str) -> tuple[int, str]:
    response = client.post(path, content=body, headers={'content-type': 'application/json'})
    return response.status_code, response.text


@pytest.mark.parametrize('body', TRACK_CASES.values(), ids=TRACK_CASES.keys())
def test_track_refusal_equals_fastapi(body, lambda_context):
    ours = _ours(track_app, '/api/v1/analytics', body, lambda_context)
    assert ours[0] == 422
    assert ours == _theirs('/api/v1/analytics', body)


@pytest.mark.parametrize('body', BATCH_CASES.values(), ids=BATCH_CASES.keys())
def test_batch_refusal_equals_fastapi(body, lambda_context):
    ours = _ours(batch_app, '/api/v1/analytics/batch', body, lambda_context)
    assert ours[0] == 422
    assert ours == _theirs('/api/v1/analytics/batch', body)
