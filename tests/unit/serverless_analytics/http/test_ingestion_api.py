"""The ingestion routes' body parser: pydantic's JSON parser when it accepts the body, else Powertools' own path.

The reference is the path Powertools takes without it (`json.loads`, then validating the dict), which is what
the FastAPI comparison tests (test_validation_errors.py) check byte for byte."""

import json

import pytest

from serverless_analytics.http.ingestion_api import _validating_deserializer
from serverless_analytics.models.event import TrackBatchRequest, TrackEventRequest

parse_event = _validating_deserializer(TrackEventRequest)

VALID_BODIES = {
    'minimal': '{"event_name": "a"}',
    'every field': json.dumps(
        {
            'event_name': 'checkout',
            'category': 'trading',
            'priority': 'critical',
            'properties': {'cart': [{'sku': 'A-1', 'qty': 2, 'price': 9.5}], 'coupon': None, 'big': 2**70},
            'timestamp': '2026-11-22T10:00:00.123456+05:30',
            'sent_at': '2026-11-22T04:30:01Z',
            'session_id': 's1',
            'page_url': 'https://shop.example.com/c?x=1',
            'referrer': 'https://example.org/',
            'user_agent': 'Mozilla/5.0',
            'event_id': '3b9d7e0c-5a51-4c1e-9f7a-2d4b6c8e0a13',
            'user_id': 'u1',
            'user': {'id': 'u1', 'realm': ['sso'], 'groups': ['beta'], 'roles': ['admin'], 'username': 'ann'},
            'offline': True,
            'template_id': 't1',
        }
    ),
    'unicode and escapes': '{"event_name": "caf\\u00e9 \\ud83c\\udf89 \\"q\\"", "properties": {"k\\n": "\\t"}}',
    'unix timestamp': '{"event_name": "a", "timestamp": 1796618402}',
    'lax bool and uppercase uuid': '{"event_name": "a", "offline": "true", "event_id": "3B9D7E0C5A514C1E9F7A2D4B6C8E0A13"}',
    'duplicate keys': '{"event_name": "first", "event_name": "last"}',
}


@pytest.mark.parametrize('body', VALID_BODIES.values(), ids=VALID_BODIES.keys())
def test_a_valid_body_becomes_the_model_powertools_would_have_made(body):
    parsed = parse_event(body)

    assert isinstance(parsed, TrackEventRequest)  # the fast path was taken
    reference = TrackEventRequest.model_validate(json.loads(body))
    assert parsed.model_dump_json() == reference.model_dump_json()
    assert parsed.properties_json == reference.properties_json


def test_a_batch_body_is_parsed_into_the_batch_model():
    body = json.dumps({'client_id': 'web', 'events': [{'event_name': 'a'}, {'event_name': 'b', 'category': 'auth'}]})

    parsed = _validating_deserializer(TrackBatchRequest)(body)

    assert isinstance(parsed, TrackBatchRequest)
    assert [(e.event_name, e.category) for e in parsed.events] == [('a', 'user_action'), ('b', 'auth')]


REFUSED_BODIES = {
    'invalid event': ('{"event_name": ""}', {'event_name': ''}),
    'not an object': ('[1, 2]', [1, 2]),
    # JSON that only Python's parser reads: FastAPI (json.loads) takes it, so Powertools must see it too
    'lone surrogate': ('{"event_name": "\\ud800"}', {'event_name': '\ud800'}),
    # Read by both parsers, refused by the model (a non-finite number is not JSON that can be answered back)
    'NaN in properties': (
        '{"event_name": "a", "properties": {"x": NaN}}',
        {'event_name': 'a', 'properties': {'x': None}},
    ),
}


@pytest.mark.parametrize(('body', 'plain'), REFUSED_BODIES.values(), ids=REFUSED_BODIES.keys())
def test_a_body_pydantic_refuses_is_handed_to_powertools_as_plain_json(body, plain):
    # A plain value, not a model: Powertools validates it and answers (NaN compared as None: NaN != NaN)
    assert json.loads(json.dumps(parse_event(body)).replace('NaN', 'null')) == plain


def test_invalid_json_raises_the_error_powertools_answers_as_json_invalid():
    with pytest.raises(json.JSONDecodeError):
        parse_event('{"event_name": "a",}')
