"""The events export over events that went through the real ingestion path; every expected page is computed
here in plain Python from the generated events."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from functions.export_events.app import lambda_handler
from serverless_analytics.config import get_settings
from serverless_analytics.logic.api_keys import create_key
from serverless_analytics.models.api_key import Scope
from tests.conftest import load_event
from tests.integration.conftest import (
    assert_ft_credentials_checked,
    ft_error,
    ingest,
    invoke,
    with_body,
)

NAMES = ['khub.search', 'document.start_display', 'feedback.send']
REALMS = [[], ['internal'], ['Keycloak'], ['internal', 'Keycloak']]
GROUPS = [[], ['ft:administrator'], ['TechWriter', 'antidot'], ['antidot']]
ROLES = [[], ['FEEDBACK_USER'], ['ADMIN', 'PRINT_USER'], ['PRINT_USER']]
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # the clock of every test here: no run depends on its day
START = (NOW - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
END = START + timedelta(days=2)
FORMAT = '%Y-%m-%dT%H:%M:%S'


@pytest.fixture(autouse=True)
def _pinned_clock(pinned_now) -> None:
    pinned_now(NOW)


def _event(index: int, moment: datetime) -> dict:
    event = {
        'event_id': str(uuid.UUID(int=(index * 7919) % 1000 + 1)),  # ids out of time order, so ties are tested
        'event_name': NAMES[index % 3],
        'timestamp': moment.isoformat(timespec='milliseconds'),
        'properties': {'index': index, 'searchQuery': {'terms': f'term {index}'}},
        'app_name': 'ft/turnkey-portal',
        'app_version': '4.3.32',
        'tenant_id': 'documentation-docft-stable',
        'content_locale': 'en-US',
        'ui_locale': 'fr-FR',
        'offline': index % 11 == 0,
    }
    if index % 7:  # every 7th event is anonymous and has no session, as FT's server-side events
        event['session_id'] = f'session-{index % 4}'
        event['user'] = {
            'id': f'u{index % 5}',
            'realm': REALMS[index % 4],
            'groups': GROUPS[(index // 2) % 4],
            'roles': ROLES[(index // 3) % 4],
        }
    return event


def generated_events() -> list[dict]:
    """53 minutes apart from 2 h before START to past END, four with one equal time, and the boundary cases."""
    events = [_event(i, START - timedelta(hours=2) + timedelta(minutes=53 * i)) for i in range(60)]
    events += [_event(i, START + timedelta(hours=5)) for i in range(60, 64)]
    boundaries = [START, START - timedelta(milliseconds=1), END - timedelta(milliseconds=1), END]
    events += [_event(64 + i, moment) for i, moment in enumerate(boundaries)]
    return events


@pytest.fixture
def events(aws, lambda_context) -> list[dict]:
    generated = generated_events()
    ingest(aws, generated, lambda_context)
    return generated


def _time(event: dict) -> datetime:
    return datetime.fromisoformat(event['timestamp'])


def _any_of(wanted: list[str], have: list[str]) -> bool:
    return not wanted or bool(set(wanted) & set(have))


def expected_ids(events: list[dict], filters: dict, newest_first: bool = True, start=START, end=END) -> list[str]:
    """The filter's semantics, written independently of the SQL: any-of within a filter, all filters at once."""
    user_filter = filters.get('user', {})
    wanted_ids = user_filter.get('id', [])
    wanted_ids = [wanted_ids] if isinstance(wanted_ids, str) else wanted_ids
    kept = [
        e
        for e in events
        if start <= _time(e) < end
        and _any_of(filters.get('name', []), [e['event_name']])
        and _any_of(wanted_ids, [e.get('user', {}).get('id')])
        and _any_of(user_filter.get('realm', []), e.get('user', {}).get('realm', []))
        and _any_of(user_filter.get('group', []), e.get('user', {}).get('groups', []))
        and _any_of(user_filter.get('role', []), e.get('user', {}).get('roles', []))
    ]
    kept.sort(key=lambda e: (_time(e), e['event_id']), reverse=newest_first)
    return [e['event_id'] for e in kept]


def request(body: dict, query: dict | None = None) -> dict:
    event = with_body('export_events', {'startDate': START.strftime(FORMAT), 'endDate': END.strftime(FORMAT), **body})
    event['queryStringParameters'] = query or {}
    event['rawQueryString'] = '&'.join(f'{k}={v}' for k, v in (query or {}).items())
    return event


def walk(context, body: dict, per_page: int) -> tuple[list[str], list[dict]]:
    """Every page in turn until lastPage; returns the ids in order and the paging objects seen."""
    ids, pagings, page = [], [], 1
    while True:
        status, answer = invoke(
            lambda_handler, request({**body, 'paging': {'page': page, 'perPage': per_page}}), context
        )
        assert status == 200, answer
        ids += [result['id'] for result in answer['results']]
        pagings.append(answer['paging'])
        if answer['paging']['lastPage']:
            return ids, pagings
        page += 1


FILTERS = {
    'no filter': {},
    'name': {'name': ['khub.search']},
    'names': {'name': ['khub.search', 'feedback.send']},
    'user id as a string': {'user': {'id': 'u1'}},
    'user ids as a list': {'user': {'id': ['u1', 'u3']}},
    'realm': {'user': {'realm': ['Keycloak']}},
    'groups, any of': {'user': {'group': ['TechWriter', 'ft:administrator']}},
    'role': {'user': {'role': ['PRINT_USER']}},
    'all combined': {
        'name': ['khub.search', 'document.start_display'],
        'user': {'id': ['u1', 'u2', 'u4'], 'realm': ['internal'], 'group': ['antidot'], 'role': ['PRINT_USER']},
    },
    'nothing matches': {'name': ['no.such.event']},
}


def test_every_filter_alone_and_combined_in_both_orders(aws, lambda_context, events):
    for case, filters in FILTERS.items():
        for sort_order, newest_first in (('LatestFirst', True), ('oldestfirst', False)):
            ids, pagings = walk(lambda_context, {'filters': filters, 'sortOrder': sort_order}, per_page=7)

            expected = expected_ids(events, filters, newest_first)
            assert ids == expected, (case, sort_order)
            assert {p['totalCount'] for p in pagings} == {len(expected)}, case
            assert [p['lastPage'] for p in pagings] == [False] * (len(pagings) - 1) + [True], case
    assert len(expected_ids(events, FILTERS['all combined'])) > 0  # the combined case is not vacuous


def test_boundaries_and_ties(aws, lambda_context, events):
    # When: everything from START to END, oldest first, in pages of 3
    ids, _ = walk(lambda_context, {'sortOrder': 'OldestFirst'}, per_page=3)

    # Then: the event exactly on START is in, the one exactly on END is out, and so are those 1 ms outside
    by_id = {e['event_id']: e for e in events}
    times = [_time(by_id[i]) for i in ids]
    assert times[0] == START
    assert times[-1] == END - timedelta(milliseconds=1)
    assert START - timedelta(milliseconds=1) not in times and END not in times
    # the four events with one equal time come once each, ordered by id
    tied = [i for i in ids if _time(by_id[i]) == START + timedelta(hours=5)]
    assert tied == sorted(e['event_id'] for e in events[60:64])
    assert len(ids) == len(set(ids))


def test_results_have_every_field_of_the_seed(aws, lambda_context, events):
    body = {'filters': {'user': {'id': 'u1'}}, 'paging': {'page': 1, 'perPage': 1}, 'sortOrder': 'OldestFirst'}
    status, answer = invoke(lambda_handler, request(body), lambda_context)

    assert status == 200
    first = next(e for e in events if e['event_id'] == expected_ids(events, body['filters'], False)[0])
    assert answer['startDate'] == START.strftime(FORMAT)
    assert answer['endDate'] == END.strftime(FORMAT)
    assert answer['paging'] == {
        'page': 1,
        'perPage': 1,
        'totalCount': len(expected_ids(events, body['filters'])),
        'lastPage': False,
    }
    [result] = answer['results']
    assert list(result) == [
        'appName',
        'appVersion',
        'contentLocale',
        'datetime',
        'id',
        'name',
        'offline',
        'parameters',
        'sessionId',
        'tenantId',
        'uiLocale',
        'user',
        'userAgent',
        'userIp',
    ]
    assert result == {
        'appName': 'ft/turnkey-portal',
        'appVersion': '4.3.32',
        'contentLocale': 'en-US',
        'datetime': int(_time(first).timestamp() * 1000),
        'id': first['event_id'],
        'name': first['event_name'],
        'offline': first['offline'],
        'parameters': first['properties'],
        'sessionId': first['session_id'],
        'tenantId': 'documentation-docft-stable',
        'uiLocale': 'fr-FR',
        'user': {
            'realm': first['user']['realm'],
            'groups': first['user']['groups'],
            'id': 'u1',
            'roles': first['user']['roles'],
        },
        # the batch request's user agent header (the event has none), and its source IP truncated at ingestion
        'userAgent': load_event('track_batch')['headers']['user-agent'],
        'userIp': '203.0.113.0',
    }


def test_an_integer_beyond_double_precision_comes_back_with_every_digit(aws, lambda_context):
    big = 2**70 + 1  # a JavaScript client would round it; the JSON text keeps it exact
    sent = {'event_name': 'big.number', 'timestamp': (START + timedelta(hours=1)).isoformat(), 'properties': {'n': big}}
    ingest(aws, [sent], lambda_context)

    response = lambda_handler(request({'filters': {'name': ['big.number']}}), lambda_context)

    assert response['statusCode'] == 200
    assert f'"parameters":{{"n":{big}}}' in response['body']


def test_anonymous_events_have_empty_session_and_user(aws, lambda_context, events):
    anonymous = {e['event_id'] for e in events if 'user' not in e}
    status, answer = invoke(lambda_handler, request({}), lambda_context)

    assert status == 200
    results = [r for r in answer['results'] if r['id'] in anonymous]
    assert results
    assert {(r['sessionId'], r['user']['id'], json.dumps(r['user']['realm'])) for r in results} == {('', '', '[]')}


def test_query_parameters_override_the_body_paging(aws, lambda_context, events):
    body = {'paging': {'page': 1, 'perPage': 2}, 'sortOrder': 'OldestFirst'}
    expected = expected_ids(events, {}, newest_first=False)

    status, answer = invoke(lambda_handler, request(body, {'page': '3', 'per_page': '4'}), lambda_context)
    assert status == 200
    assert answer['paging'] == {'page': 3, 'perPage': 4, 'totalCount': len(expected), 'lastPage': False}
    assert [r['id'] for r in answer['results']] == expected[8:12]

    # one parameter alone overrides its own field only
    status, answer = invoke(lambda_handler, request(body, {'page': '2'}), lambda_context)
    assert (answer['paging']['page'], answer['paging']['perPage']) == (2, 2)
    assert [r['id'] for r in answer['results']] == expected[2:4]


def test_without_paging_the_first_page_has_the_maximum_size(aws, lambda_context, events):
    status, answer = invoke(lambda_handler, request({}), lambda_context)

    expected = expected_ids(events, {})
    assert status == 200
    assert answer['paging'] == {'page': 1, 'perPage': 1000, 'totalCount': len(expected), 'lastPage': True}
    assert [r['id'] for r in answer['results']] == expected


def test_a_page_past_the_end_is_empty_with_the_total(aws, lambda_context, events):
    status, answer = invoke(lambda_handler, request({'paging': {'page': 50, 'perPage': 10}}), lambda_context)

    assert status == 200
    assert answer['results'] == []
    assert answer['paging'] == {
        'page': 50,
        'perPage': 10,
        'totalCount': len(expected_ids(events, {})),
        'lastPage': True,
    }


def test_end_date_defaults_to_now(aws, lambda_context, events):
    event = with_body('export_events', {'startDate': START.strftime('%Y-%m-%d')})

    status, answer = invoke(lambda_handler, event, lambda_context)

    assert status == 200
    assert answer['endDate'] == NOW.strftime(FORMAT)
    assert [r['id'] for r in answer['results']] == expected_ids(events, {}, end=NOW)


def test_another_projects_key_sees_none_of_these_events(aws, lambda_context, events):
    key, _ = create_key(get_settings(), '2', [Scope.READ], 'project 2')
    event = request({})
    event['headers']['authorization'] = f'Bearer {key}'

    status, answer = invoke(lambda_handler, event, lambda_context)

    assert status == 200
    assert (answer['results'], answer['paging']['totalCount']) == ([], 0)


YEAR_AGO = (NOW - timedelta(days=366)).strftime('%Y-%m-%d')


@pytest.mark.parametrize(
    ('body', 'expected'),
    [
        ({}, ft_error(400, 'startDate: is required')),
        (
            {'startDate': '01/02/2026'},
            ft_error(
                400, "startDate: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got '01/02/2026'"
            ),
        ),
        ({'startDate': '2026-02-30'}, ft_error(400, "startDate: '2026-02-30' is not a valid date or time")),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'endDate': START.strftime('%Y-%m-%d')},
            ft_error(400, 'endDate must be later than startDate'),
        ),
        ({'startDate': YEAR_AGO}, ft_error(400, 'startDate must be within the past year (on or after 2025-11-22)')),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'paging': {'page': 1}},
            ft_error(400, 'paging.perPage: is required'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'paging': {'page': 0, 'perPage': 10}},
            ft_error(400, 'paging.page: Input should be greater than or equal to 1'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'paging': {'page': 1, 'perPage': 1001}},
            ft_error(400, 'paging.perPage: must be between 1 and 1000'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'paging': {'page': '1', 'perPage': 10}},
            ft_error(400, 'paging.page: Input should be a valid integer'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'sortOrder': 'newestFirst'},
            ft_error(400, "sortOrder: Input should be 'LatestFirst' or 'OldestFirst'"),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'filters': {'name': 'khub.search'}},
            ft_error(400, 'filters.name: Input should be a valid list'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'paging': {'page': 10**18, 'perPage': 1000}},
            ft_error(400, 'paging.page: Input should be less than or equal to 10000000'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'filters': {'user': {'id': 'u1', 'roles': ['ADMIN']}}},
            ft_error(400, 'filters.user.roles: Extra inputs are not permitted'),
        ),
        (
            {'startDate': START.strftime('%Y-%m-%d'), 'filters': {'tenant': ['x']}},
            ft_error(400, 'filters.tenant: Extra inputs are not permitted'),
        ),
        ({'startDate': '0000-01-01'}, ft_error(400, "startDate: '0000-01-01' is not a valid date or time")),
        ('[1, 2]', ft_error(400, 'Request body must be a JSON object')),
        (
            '{"startDate": ',
            ft_error(400, 'Request body is not valid JSON: Expecting value'),
        ),
    ],
)
def test_bad_requests_are_400_naming_the_problem(aws, lambda_context, body, expected):
    event = with_body('export_events', body)

    status, answer = invoke(lambda_handler, event, lambda_context)

    assert (status, answer) == expected


def test_bad_query_parameter_is_400(aws, lambda_context):
    assert invoke(lambda_handler, request({}, {'page': 'two'}), lambda_context) == ft_error(
        400, 'query.page: Input should be a valid integer, unable to parse string as an integer'
    )
    assert invoke(lambda_handler, request({}, {'per_page': '-1'}), lambda_context) == ft_error(
        400, 'paging.perPage: must be between 1 and 1000'
    )


def test_a_page_query_parameter_past_ten_million_is_400_not_an_offset_overflow(aws, lambda_context):
    assert invoke(lambda_handler, request({}, {'page': str(10**18)}), lambda_context) == ft_error(
        400, 'paging.page: Input should be less than or equal to 10000000'
    )


def test_credentials(aws, lambda_context):
    assert_ft_credentials_checked(lambda_handler, 'export_events', lambda_context)


def test_an_unreadable_lake_file_gets_the_family_unavailable_answer_not_a_bare_500(aws, lambda_context):
    # Given: an object in the project's lake partition that is not Parquet (the engine fails in its own way)
    key = f'events/project_id=1/dt={START:%Y-%m-%d}/part-broken.parquet'
    aws.client('s3').put_object(Bucket=aws.name('LakeBucket'), Key=key, Body=b'not a parquet file')

    # When / Then
    assert invoke(lambda_handler, request({}), lambda_context) == ft_error(
        503, 'The query backend is unavailable or too slow for this request; retry later or narrow the range'
    )
