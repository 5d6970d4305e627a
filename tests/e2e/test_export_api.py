"""The events export over HTTP on the local stack: events posted to the ingestion API come back through the
Fluid Topics-shaped export, page by page and counted per day, for the key's project only."""

import uuid
from datetime import datetime, timedelta

import pytest
import requests

from local import demo_data
from local.stack import LocalStack
from tests.e2e.support import bearer, new_project, post_batch
from tests.integration.functions.test_export_events import END as WINDOW_END
from tests.integration.functions.test_export_events import FILTERS, FORMAT, NOW, expected_ids, generated_events
from tests.integration.functions.test_export_events import START as WINDOW_START

pytestmark = pytest.mark.e2e

EVENTS = '/analytics/api/v1/events'
COUNTS = '/analytics/api/v1/traffic/event-counts'
START = (NOW - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
END = START + timedelta(days=2)


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


def _events() -> list[dict]:
    """Every 50 minutes over three days, from an hour before START; every third has the group 'TechWriter'."""
    return [
        {
            'event_id': str(uuid.uuid4()),
            'event_name': 'khub.search' if i % 2 else 'document.start_display',
            'timestamp': (START - timedelta(hours=1) + timedelta(minutes=50 * i)).isoformat(),
            'user': {'id': f'u{i % 4}', 'groups': ['TechWriter'] if i % 3 == 0 else ['antidot']},
            'properties': {'i': i},
        }
        for i in range(90)
    ]


def _in_window(event: dict) -> bool:
    return START <= datetime.fromisoformat(event['timestamp']) < END


def test_walking_the_pages_over_http_returns_the_filtered_events_once(stack: LocalStack) -> None:
    # Given: a fresh project's events, posted over HTTP and written to the lake
    project_id, key = new_project()
    events = _events()
    assert post_batch(stack, key, events).status_code == 200
    stack.drain()
    _, other_key = new_project()
    filters = {'name': ['khub.search'], 'user': {'group': ['TechWriter']}}
    body = {'startDate': f'{START:%Y-%m-%d}', 'endDate': f'{END:%Y-%m-%dT%H:%M}', 'filters': filters}

    # When: walking every page, oldest first, with FT's query-parameter paging
    ids, totals, answer = _walk_over_http(stack, key, {**body, 'sortOrder': 'OldestFirst'}, 4, query_paging=True)

    # Then
    expected = expected_ids(events, filters, newest_first=False, start=START, end=END)
    assert ids == expected
    assert totals == {len(expected)}
    assert (answer['startDate'], answer['endDate']) == (f'{START:%Y-%m-%dT%H:%M:%S}', f'{END:%Y-%m-%dT%H:%M:%S}')

    counts = requests.post(
        stack.url + COUNTS,
        json={**body, 'groupByPeriod': 'day', 'filters': {'name': ['khub.search']}},
        headers=bearer(key),
        timeout=30,
    ).json()
    per_day = [p['eventCount'] for p in counts['results'][0]['periods']]
    searches = [e for e in events if _in_window(e) and e['event_name'] == 'khub.search']
    assert per_day == [
        sum(e['timestamp'].startswith(f'{START + timedelta(days=d):%Y-%m-%d}') for e in searches) for d in (0, 1)
    ]

    # and another project's key sees none of them
    other = requests.post(stack.url + EVENTS, json=body, headers=bearer(other_key), timeout=30)
    assert (other.status_code, other.json()['paging']['totalCount']) == (200, 0)


def test_errors_over_http(stack: LocalStack) -> None:
    _, read_key = new_project(['read'])
    _, ingest_key = new_project(['ingest'])

    missing = requests.post(stack.url + EVENTS, json={}, headers=bearer(read_key), timeout=30)
    no_key = requests.post(stack.url + EVENTS, json={'startDate': f'{START:%Y-%m-%d}'}, timeout=30)
    ingest_only = requests.post(stack.url + COUNTS, json={}, headers=bearer(ingest_key), timeout=30)

    assert (missing.status_code, missing.json()) == (400, {'error': {'code': 400, 'message': 'startDate: is required'}})
    assert (no_key.status_code, no_key.json()) == (401, {'error': {'code': 401, 'message': 'Not authenticated'}})
    assert ingest_only.status_code == 403


def _walk_over_http(
    stack: LocalStack, key: str, body: dict, per_page: int, query_paging: bool = False
) -> tuple[list[str], set[int], dict]:
    """Every page in turn until lastPage, paged in the body or (`query_paging`) by FT's query parameters; returns
    the ids in order, the totals seen and the last answer."""
    ids, totals, page = [], set(), 1
    while True:
        if query_paging:
            url, json_body = f'{stack.url}{EVENTS}?page={page}&per_page={per_page}', body
        else:
            url, json_body = stack.url + EVENTS, {**body, 'paging': {'page': page, 'perPage': per_page}}
        response = requests.post(url, json=json_body, headers=bearer(key), timeout=30)
        assert response.status_code == 200, response.text
        answer = response.json()
        ids += [result['id'] for result in answer['results']]
        totals.add(answer['paging']['totalCount'])
        if answer['paging']['lastPage']:
            return ids, totals, answer
        page += 1


def test_every_filter_and_the_boundaries_over_http(stack: LocalStack) -> None:
    """The handler-level filter matrix (tests/integration/functions/test_export_events.py), through the gateway."""
    _, key = new_project()
    events = generated_events()
    assert demo_data.load(stack.url, key, events) == len(events)
    stack.drain()
    window = {'startDate': WINDOW_START.strftime(FORMAT), 'endDate': WINDOW_END.strftime(FORMAT)}

    for case, filters in FILTERS.items():
        for sort_order, newest_first in (('LatestFirst', True), ('OLDESTFIRST', False)):
            ids, totals, _ = _walk_over_http(stack, key, {**window, 'filters': filters, 'sortOrder': sort_order}, 9)
            expected = expected_ids(events, filters, newest_first)
            assert ids == expected, (case, sort_order)
            assert totals == {len(expected)}, case
