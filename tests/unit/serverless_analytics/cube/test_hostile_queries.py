"""Hostile queries: each is refused with a UserError (`CubeQueryError`, 400) naming what is wrong, before any
work grows with it and before the engine sees a value it cannot convert; the caps are those of `cube.limits`
(docs/cube.md, "Limits")."""

import time

import pytest
import sqlglot

from serverless_analytics.cube import Target, compile_request, dry_run, load
from serverless_analytics.cube.limits import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUES,
    MAX_JSON_DEPTH,
    MAX_MEMBERS_PER_QUERY,
    MAX_ORDER_ITEMS,
    MAX_QUERIES_PER_REQUEST,
)
from serverless_analytics.models.errors import CubeLimitError, CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW

COUNT = ['TrackedEvents.count']
TIME = 'TrackedEvents.derivedTstamp'
TOO_DEEP = 'Unable to decode query param as JSON, error: arrays and objects nest more than 64 levels deep'
OUT_OF_BOUNDS = "Date '{}' is out of bounds: dates must be between 0001-01-01 and 9999-12-31"


def _refusal(query) -> str:
    with pytest.raises(CubeQueryError) as raised:
        dry_run(query, now=NOW)
    assert not isinstance(raised.value, CubeLimitError)  # Cube's one refusal answered apart
    return raised.value.message


def _nested_filter(depth: int, kind: str = 'or') -> dict:
    item = {'member': 'TrackedEvents.pageUrl', 'operator': 'equals', 'values': ['a']}
    for _ in range(depth):
        item = {kind: [item]}
    return item


def _date_range(date_range) -> dict:
    return {'measures': COUNT, 'timeDimensions': [{'dimension': TIME, 'dateRange': date_range}]}


def _date_filter(operator: str, *values) -> dict:
    return {'measures': COUNT, 'filters': [{'member': TIME, 'operator': operator, 'values': list(values)}]}


def test_an_empty_blending_array_gets_cubes_answer():
    assert _refusal([]) == 'Data blending query without granularity is not supported'
    assert _refusal('[]') == 'Data blending query without granularity is not supported'


def test_a_query_wrapped_in_query_is_an_unknown_key():
    assert _refusal({'query': []}) == 'Invalid query format: "query" is not allowed'


@pytest.mark.parametrize('key', ['offset', 'limit'])
@pytest.mark.parametrize('value', [2**70, -(2**70), 2**53, 1e300])
def test_numbers_past_javascripts_safe_integers_are_joi_unsafe(key, value):
    assert _refusal({'measures': COUNT, key: value}) == f'Invalid query format: "{key}" must be a safe number'


@pytest.mark.parametrize('key', ['offset', 'limit'])
@pytest.mark.parametrize('value', ['9' * 10_000, '9007199254740992', '20'])
def test_numeric_strings_are_not_numbers_to_cube_1_7(key, value):
    assert _refusal({'measures': COUNT, key: value}) == f'Invalid query format: "{key}" must be a number'


def test_the_largest_safe_offset_is_taken():
    assert dry_run({'measures': COUNT, 'offset': 2**53 - 1}, now=NOW)['normalizedQueries'][0]['offset'] == 2**53 - 1


@pytest.mark.parametrize(
    'text', ['last 100000000 years', 'next 8000 years', 'last 9999999999999 seconds', '100000 years ago']
)
def test_relative_ranges_past_year_9999_or_before_year_1_are_out_of_bounds(text):
    assert _refusal(_date_range(text)) == OUT_OF_BOUNDS.format(text)


def test_a_relative_count_of_ten_thousand_digits_is_refused_by_length():
    text = 'last ' + '9' * 10_000 + ' days'
    assert _refusal(_date_range(text)) == 'Date expression is too long: 10010 characters; the maximum is 256'


def test_a_long_date_expression_is_refused_before_the_patterns_backtrack_over_it():
    text = 'a' + ' ' * 10_000 + 'to' + ' ' * 10_000
    assert _refusal(_date_range(text)) == 'Date expression is too long: 20003 characters; the maximum is 256'


@pytest.mark.parametrize(
    'query',
    [
        _date_range(['0001-01-01T00:00:00+14:00', '2024-01-01']),
        _date_filter('afterDate', '0001-01-01T00:00:00+14:00'),
        _date_filter('inDateRange', '2024-01-01', '9999-12-31T23:59:59-14:00'),
    ],
)
def test_an_offset_moving_a_date_out_of_years_1_to_9999_is_out_of_bounds(query):
    assert 'is out of bounds: dates must be between 0001-01-01 and 9999-12-31' in _refusal(query)


@pytest.mark.parametrize(
    ('query', 'text'),
    [
        (_date_range(['2024-13-45', '2024-12-31']), '2024-13-45'),
        (_date_range(['2024-02-30']), '2024-02-30'),
        (_date_range('2024-13-45'), '2024-13-45'),
        (_date_range(['0000-01-01', '2024-12-31']), '0000-01-01'),
        (_date_filter('inDateRange', '2024-01-01', '2024-13-45'), '2024-13-45'),
        (_date_filter('afterDate', '2024-13-45'), '2024-13-45'),
        (_date_filter('equals', '2024-13-45'), '2024-13-45'),
        (_date_filter('gt', '2024-02-30T10:00:00Z'), '2024-02-30T10:00:00Z'),
        (_date_filter('notInDateRange', '2024-13-45', '2024-12-31'), '2024-13-45'),
    ],
)
def test_impossible_dates_are_cubes_cant_parse_date(query, text):
    assert _refusal(query) == f"Can't parse date: '{text}'"


@pytest.mark.parametrize('timezone', ['UTC', 'America/New_York', 'Asia/Tokyo', 'Pacific/Kiritimati'])
@pytest.mark.parametrize('granularity', [None, 'hour', 'day', 'week', 'year'])
def test_the_first_and_last_days_of_the_calendar_compile_in_any_timezone(timezone, granularity):
    time_dimension = {'dimension': TIME, 'dateRange': ['0001-01-01', '9999-12-31']}
    query = {
        'measures': COUNT,
        'timezone': timezone,
        'timeDimensions': [time_dimension | ({'granularity': granularity} if granularity else {})],
        'filters': [{'member': TIME, 'operator': 'beforeDate', 'values': ['9999-12-31T23:59:59.999']}],
    }

    _, [normalized], [compiled] = compile_request(query, '1', Target('duckdb', 'events'), NOW)

    assert normalized.echo['timeDimensions'][0]['dateRange'] == ['0001-01-01T00:00:00.000', '9999-12-31T23:59:59.999']
    literals = {node.this for node in sqlglot.parse_one(compiled.sql, read='duckdb').find_all(sqlglot.exp.Literal)}
    assert {'0001-01-01', '9999-12-31'} <= literals  # the dt partition bounds keep four-digit years


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('from 9999-12-31 to 9999-12-31', ['9999-12-31T00:00:00.000', '9999-12-31T23:59:59.999']),
        ('this year', ['2024-01-01T00:00:00.000', '2024-12-31T23:59:59.999']),
        ('last 2023 years', ['0001-01-01T00:00:00.000', '2023-12-31T23:59:59.999']),
        ('next 7975 years', ['2025-01-01T00:00:00.000', '9999-12-31T23:59:59.999']),
    ],
)
def test_ranges_reaching_the_calendars_ends_resolve(text, expected):
    assert dry_run(_date_range(text), now=NOW)['normalizedQueries'][0]['timeDimensions'][0]['dateRange'] == expected


@pytest.mark.parametrize('kind', ['or', 'and'])
@pytest.mark.parametrize('depth', [MAX_FILTER_DEPTH + 1, 300, 5_000])
def test_filters_nested_past_the_cap_are_refused(kind, depth):
    query = {'measures': COUNT, 'filters': [_nested_filter(depth, kind)]}
    assert _refusal(query) == 'Query filters nest and/or groups more than 20 levels deep'


def test_filters_nested_to_the_cap_compile():
    query = {'measures': COUNT, 'filters': [_nested_filter(MAX_FILTER_DEPTH)]}
    assert dry_run(query, now=NOW)['normalizedQueries'][0]['filters'] == [_echoed(_nested_filter(MAX_FILTER_DEPTH))]


def _echoed(item: dict) -> dict:
    if 'or' in item:
        return {'or': [_echoed(child) for child in item['or']]}
    return {'member': item['member'], 'operator': item['operator'], 'values': item['values']}


def test_members_past_the_cap_are_refused_in_linear_time():
    started = time.process_time()
    message = _refusal({'measures': COUNT * 10_000})
    assert time.process_time() - started < 1  # it took 58 s, quadratically, before the cap
    assert message == (
        'Query has 10000 members (measures, dimensions, timeDimensions, segments and filters together); '
        'the maximum is 100'
    )


def test_every_kind_of_member_counts_towards_the_cap():
    leaf = {'member': 'TrackedEvents.pageUrl', 'operator': 'set'}
    query = {
        'measures': COUNT * 20,
        'dimensions': ['TrackedEvents.pageUrl'] * 20,
        'timeDimensions': [{'dimension': TIME}] * 20,
        'segments': ['TrackedEvents.knownUsers'] * 20,
        'filters': [{'and': [leaf] * 9}] + [leaf] * 10,  # a group and 19 conditions
    }
    assert len(dry_run(query, now=NOW)['normalizedQueries'][0]['measures']) == 20

    query['filters'].append(leaf)
    assert _refusal(query).startswith(f'Query has {MAX_MEMBERS_PER_QUERY + 1} members')


def test_filter_values_past_the_cap_are_refused():
    values = ['x'] * (MAX_FILTER_VALUES + 1)
    query = {
        'measures': COUNT,
        'filters': [{'member': 'TrackedEvents.pageUrl', 'operator': 'notContains', 'values': values}],
    }
    assert _refusal(query) == 'Query filters have 1001 values together; the maximum is 1000'


@pytest.mark.parametrize(
    'order',
    [
        {f'TrackedEvents.m{n}': 'asc' for n in range(MAX_ORDER_ITEMS + 1)},
        [['TrackedEvents.count', 'asc']] * (MAX_ORDER_ITEMS + 1),
    ],
)
def test_order_entries_past_the_cap_are_refused(order):
    assert _refusal({'measures': COUNT, 'order': order}) == 'Query has 101 order entries; the maximum is 100'


def test_blending_queries_past_the_cap_are_refused():
    query = {'measures': COUNT, 'timeDimensions': [{'dimension': TIME, 'granularity': 'day'}]}
    assert _refusal([query] * (MAX_QUERIES_PER_REQUEST + 1)) == 'Blending query has 21 queries; the maximum is 20'


def test_compare_date_ranges_past_the_cap_are_refused():
    ranges = ['today'] * (MAX_QUERIES_PER_REQUEST + 1)
    query = {'measures': COUNT, 'timeDimensions': [{'dimension': TIME, 'compareDateRange': ranges}]}
    assert _refusal(query) == 'compareDateRange has 21 date ranges; the maximum is 20'


@pytest.mark.parametrize(
    'query',
    [
        '[' * 10_000,
        '[' * 10_000 + ']' * 10_000,
        '{"measures": ["TrackedEvents.count"], "order": [["TrackedEvents.count", "asc", '
        + '[' * 5_000
        + ']' * 5_002
        + '}',
        '{"measures": ["TrackedEvents.count"], "filters": ' + '[' * 200_000 + ']' * 200_000 + '}',
    ],
    ids=['unbalanced', 'balanced', 'in an order pair', 'past the parser recursion'],
)
def test_a_query_param_nested_past_the_cap_is_not_decoded(query):
    assert _refusal(query) == TOO_DEEP


def test_a_decoded_query_nested_past_the_cap_is_refused():
    deep: list = []
    for _ in range(5_000):
        deep = [deep]
    assert _refusal({'measures': COUNT, 'order': [['TrackedEvents.count', 'asc', deep]]}) == TOO_DEEP
    assert _refusal([deep]) == TOO_DEEP


def test_nesting_to_the_json_cap_is_decoded():
    nested: list = []
    for _ in range(MAX_JSON_DEPTH - 4):  # 60 levels around the innermost list, inside the query, order and pair
        nested = [nested]
    query = {'measures': COUNT, 'order': [['TrackedEvents.count', 'asc', nested]]}
    # decoded, then refused by the schema (an order pair has two items), not by the nesting cap
    assert _refusal(query) == 'Invalid query format: "order[0]" must contain at most 2 items'


@pytest.mark.parametrize(
    'query',
    [
        {
            'measures': COUNT,
            'filters': [{'member': 'TrackedEvents.pageUrl', 'operator': 'equals', 'values': ['a\ud800']}],
        },
        {'measures': COUNT, 'order': {'TrackedEvents.count': 'asc'}, 'timezone': '\udfff'},
        '{"measures": ["TrackedEvents.count"], "\\ud800": 1}',
    ],
)
def test_lone_surrogates_are_refused(query):
    assert _refusal(query) == 'Invalid query format: strings must not hold lone surrogates (\\ud800-\\udfff)'


@pytest.mark.parametrize('timezone', ['a/' * 3_000 + 'b', 'x' * 65, 'America/../../etc', 'UTC\x00'])
def test_timezones_that_cannot_be_iana_names_are_not_looked_up(timezone):
    expected = f'Invalid query format: "timezone" must be a valid IANA time zone, got "{timezone}"'
    assert _refusal({'measures': COUNT, 'timezone': timezone}) == expected


@pytest.mark.parametrize('member', ['TrackedEvents.count', 'TrackedEvents.latencyMs', 'TrackedEvents.pageUrlpath'])
@pytest.mark.parametrize('ungrouped', [False, True])
def test_date_operators_on_members_that_are_not_time_are_refused(member, ungrouped):
    query = _date_filter('afterOrOnDate', '2024-01-01') | {'ungrouped': ungrouped}
    query['filters'][0]['member'] = member
    expected = f"afterOrOnDate can only be used with time dimensions: '{member}'"
    if ungrouped and member == 'TrackedEvents.count':  # Cube refuses it first as a measure filter
        expected = "Measure filters aren't allowed in ungrouped query"
    assert _refusal(query) == expected


def test_sql_past_athenas_query_length_is_refused():
    values = ['x' * 1_000] * 300
    query = {'measures': COUNT, 'filters': [{'member': 'TrackedEvents.pageUrl', 'operator': 'in', 'values': values}]}

    for dialect in ('duckdb', 'trino'):
        with pytest.raises(CubeQueryError) as raised:
            compile_request(query, '1', Target(dialect, 'events'), NOW)

        assert raised.value.message.startswith('Query is too large: its SQL has 30')
        assert raised.value.message.endswith(' bytes; the maximum is 262144')


def test_a_query_at_the_calendars_ends_runs_on_the_engine(engine):
    query = _date_range(['0001-01-01', '9999-12-31']) | {'timezone': 'Asia/Tokyo'}
    query['filters'] = [{'member': TIME, 'operator': 'afterDate', 'values': ['0001-01-01']}]

    body = load(query, '1', engine, now=NOW)

    assert body['data'] == [{'TrackedEvents.count': '6'}]
