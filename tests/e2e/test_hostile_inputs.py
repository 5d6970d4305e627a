"""A hostile-input corpus for every route, against the local stack with a valid key: each request is refused with
a 4xx in its family's error shape (or, where the input is acceptable, answered), never a 5xx, never a hang."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.family_shapes import is_family_error
from tests.e2e.support import BATCH, HEALTH, STATS, TRACK, bearer

GITLAB = '/projects/1/product_analytics/request'
CUBE = '/cubejs-api/v1'
EVENTS, COUNTS = '/analytics/api/v1/events', '/analytics/api/v1/traffic/event-counts'
POST_ROUTES = [TRACK, BATCH, f'{GITLAB}/load', f'{GITLAB}/dry-run', f'{CUBE}/load', f'{CUBE}/dry-run', EVENTS, COUNTS]
ANY_4XX = None
# The export's dates below (2026-11-01) are within its past year of this moment, whatever day the test runs.
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _cube(query: Any) -> bytes:
    return _json({'query': query})


def _deep_or(depth: int) -> dict[str, Any]:
    member = {'member': 'TrackedEvents.eventName', 'operator': 'equals', 'values': ['x']}
    for _ in range(depth):
        member = {'or': [member]}
    return member


BODIES_NO_ROUTE_TAKES = {
    'not UTF-8': b'{"a": "caf\xe9"}',
    'UTF-16 with garbage': '{"a": 1}'.encode('utf-16')[:-1],
    'nested 10,000 deep': b'[' * 10_000 + b']' * 10_000,
    'an object nested 10,000 deep': b'{"a":' * 10_000 + b'1' + b'}' * 10_000,
    'a 5,000-digit integer': b'{"a": ' + b'9' * 5_000 + b'}',
    'an array': b'[1, 2]',
    'a string': b'"x"',
    'truncated JSON': b'{"query": {"measures": [',
    'NUL bytes': b'\x00' * 64,
}

CASES: list[tuple[str, str, str, bytes | None, str, int | None]] = [
    # (id, method, path, body, query string, expected status: None for any 4xx)
    (
        'timestamp overflowing by its offset',
        'POST',
        TRACK,
        _json({'event_name': 'a', 'timestamp': '0001-01-01T00:00:00+14:00'}),
        '',
        422,
    ),
    (
        'sent_at correction overflowing',
        'POST',
        TRACK,
        _json({'event_name': 'a', 'timestamp': '0001-01-01T00:00:00Z', 'sent_at': '9999-12-31T23:59:59Z'}),
        '',
        422,
    ),
    ('timestamp of year 1', 'POST', TRACK, _json({'event_name': 'a', 'timestamp': '0001-01-01T00:00:00Z'}), '', 422),
    ('unix timestamp 123', 'POST', TRACK, _json({'event_name': 'a', 'timestamp': 123}), '', 422),
    ('unix timestamp -10^12', 'POST', TRACK, _json({'event_name': 'a', 'timestamp': -(10**12)}), '', 422),
    ('NaN in properties', 'POST', TRACK, b'{"event_name": "a", "properties": {"x": NaN, "y": [Infinity]}}', '', 422),
    (
        'properties nested 10,000 deep',
        'POST',
        TRACK,
        b'{"event_name": "a", "properties": ' + b'{"a":' * 10_000 + b'1' + b'}' * 10_001,
        '',
        ANY_4XX,
    ),
    (
        'an invalid IPv6 page URL does not fail the batch',
        'POST',
        BATCH,
        _json(
            {
                'events': [
                    {'event_name': 'a', 'page_url': 'http://[invalid/'},
                    {'event_name': 'b', 'referrer': 'http://[::1/'},
                ]
            }
        ),
        '',
        200,
    ),
    ('query that is an empty array', 'POST', f'{GITLAB}/load', _cube([]), '', 400),
    ('query that is an empty array, Cube path', 'POST', f'{CUBE}/load', _cube([]), '', 400),
    (
        'offset above int64',
        'POST',
        f'{CUBE}/load',
        _cube({'measures': ['TrackedEvents.count'], 'offset': 2**70}),
        '',
        400,
    ),
    (
        'last 100000000 years',
        'POST',
        f'{CUBE}/load',
        _cube(
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': 'last 100000000 years'}],
            }
        ),
        '',
        400,
    ),
    (
        'a 10,000-digit relative count',
        'POST',
        f'{GITLAB}/load',
        _cube(
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'dateRange': 'last ' + '9' * 10_000 + ' days'}
                ],
            }
        ),
        '',
        400,
    ),
    (
        'or filters nested 300 deep',
        'POST',
        f'{CUBE}/load',
        _cube({'measures': ['TrackedEvents.count'], 'filters': [_deep_or(300)]}),
        '',
        400,
    ),
    ('10,000 measures', 'POST', f'{CUBE}/dry-run', _cube({'measures': ['TrackedEvents.count'] * 10_000}), '', 400),
    (
        'impossible date in a range',
        'POST',
        f'{CUBE}/load',
        _cube(
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': ['2024-13-45', '2024-14-01']}],
            }
        ),
        '',
        400,
    ),
    (
        'impossible date in a filter',
        'POST',
        f'{GITLAB}/load',
        _cube(
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.utcTime', 'operator': 'afterDate', 'values': ['2024-13-45']}],
            }
        ),
        '',
        400,
    ),
    ('GET query nesting 3,000 [', 'GET', f'{CUBE}/load', None, 'query=' + '[' * 3_000, 400),
    (
        'export page 10^18',
        'POST',
        EVENTS,
        _json({'startDate': '2026-11-01', 'paging': {'page': 10**18, 'perPage': 10}}),
        '',
        400,
    ),
    (
        'export ?page= of 20 digits',
        'POST',
        EVENTS,
        _json({'startDate': '2026-11-01'}),
        'page=99999999999999999999',
        400,
    ),
    (
        'unknown event-counts filter',
        'POST',
        COUNTS,
        _json({'startDate': '2026-11-01', 'endDate': '2026-11-02', 'groupByPeriod': 'day', 'filters': {'nope': ['x']}}),
        '',
        400,
    ),
    (
        'unknown user filter',
        'POST',
        EVENTS,
        _json({'startDate': '2026-11-01', 'filters': {'user': {'nope': ['x']}}}),
        '',
        400,
    ),
    (
        'event-counts by user',
        'POST',
        COUNTS,
        _json(
            {
                'startDate': '2026-11-01',
                'endDate': '2026-11-02',
                'groupByPeriod': 'day',
                'filters': {'user': {'id': 'u1'}},
            }
        ),
        '',
        200,
    ),
    ('stats with a body', 'GET', STATS, b'\xff\xfe', '', 200),
    ('health with a hostile parameter', 'GET', HEALTH, None, 'deep=' + 'x' * 5_000, ANY_4XX),
]
CASES += [
    (f'{path} {name}', 'POST', path, body, '', ANY_4XX)
    for path in POST_ROUTES
    for name, body in BODIES_NO_ROUTE_TAKES.items()
]


@pytest.mark.parametrize(
    ('method', 'path', 'body', 'query', 'expected'), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_input_is_refused_in_its_familys_shape(method, path, body, query, expected, stack: LocalStack):
    headers = bearer(stack.api_key) | {'content-type': 'application/json'}
    url = stack.url + path + (f'?{query}' if query else '')
    response = requests.request(method, url, data=body, headers=headers, timeout=60)

    if expected is None:
        assert 400 <= response.status_code < 500, response.text[:500]
    else:
        assert response.status_code == expected, response.text[:500]
    if response.status_code >= 400:
        assert is_family_error(path, json.loads(response.text)), response.text[:500]


def test_a_request_line_over_api_gateways_limit_is_its_431(stack: LocalStack):
    response = requests.get(f'{stack.url}{CUBE}/load?query=' + '[' * 10_000, headers=bearer(stack.api_key), timeout=60)

    assert (response.status_code, response.json()) == (431, {'message': 'Request Header Fields Too Large'})


def test_a_zero_filled_range_of_a_thousand_years_stays_within_a_lambda_answer(stack: LocalStack):
    query = {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [
            {'dimension': 'TrackedEvents.utcTime', 'granularity': 'day', 'dateRange': ['1000-01-01', '2026-12-31']}
        ],
        'filters': [
            {'member': 'TrackedEvents.utcTime', 'operator': 'inDateRange', 'values': ['1000-01-01', '2026-12-31']}
        ],
        'limit': 100,
    }
    response = requests.post(
        f'{stack.url}{GITLAB}/load',
        json={'query': query, 'queryType': 'multi'},
        headers=bearer(stack.api_key),
        timeout=60,
    )

    assert response.status_code < 500, response.text[:500]
    assert len(response.content) < 6_000_000  # Lambda's answer limit
    if response.status_code == 200:
        assert len(response.json()['results'][0]['data']) <= 100
