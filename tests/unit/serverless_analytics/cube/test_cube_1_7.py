"""Cube 1.7's answers where they differ from older Cube: the messages and shapes below were read from Cube 1.7.43
itself (tools/cube-oracle) on the same queries."""

from datetime import UTC, datetime

import pytest

from serverless_analytics.cube import Target, compile_request, load
from serverless_analytics.cube.dates import parse_date_range
from serverless_analytics.models.errors import CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW

COUNT = ['TrackedEvents.count']
BY_PAGE = {'measures': COUNT, 'dimensions': ['TrackedEvents.pageUrlpath']}


def _result(engine, query) -> dict:
    return load(query, '1', engine, now=NOW, query_type='multi')['results'][0]


def _refusal(engine, query) -> str:
    with pytest.raises(CubeQueryError) as raised:
        load(query, '1', engine, now=NOW, query_type='multi')
    return raised.value.message


def test_a_time_buckets_annotation_describes_its_granularity(engine):
    query = {'measures': COUNT, 'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'week'}]}

    annotation = _result(engine, query)['annotation']['timeDimensions']

    assert annotation['TrackedEvents.derivedTstamp.week']['granularity'] == {
        'name': 'week',
        'title': 'week',
        'interval': '1 week',
    }
    assert 'granularity' not in annotation['TrackedEvents.derivedTstamp']


def test_limit_zero_answers_no_rows(engine):
    assert _result(engine, BY_PAGE | {'limit': 0})['data'] == []


def test_columnar_answers_rows_as_the_default_format_does(engine):
    default = _result(engine, BY_PAGE | {'order': {'TrackedEvents.pageUrlpath': 'asc'}})['data']

    assert (
        _result(engine, BY_PAGE | {'order': {'TrackedEvents.pageUrlpath': 'asc'}, 'responseFormat': 'columnar'})['data']
        == default
    )
    assert default


@pytest.mark.parametrize('mode', ['stale-if-slow', 'no-cache'])
def test_cache_modes_are_accepted(engine, mode):
    assert _result(engine, {'measures': COUNT, 'cache': mode})['data'] == [{'TrackedEvents.count': '6'}]


def test_an_unknown_cache_mode_is_refused_as_cube_names_it(engine):
    assert _refusal(engine, {'measures': COUNT, 'cache': 'x'}) == (
        'Invalid query format: "cacheMode" must be one of [stale-if-slow, stale-while-revalidate, must-revalidate, '
        'no-cache]'
    )


def test_a_time_zone_name_is_matched_whatever_its_case(engine):
    echo = _result(engine, {'measures': COUNT, 'timezone': 'europe/berlin'})['query']

    assert echo['timezone'] == 'Europe/Berlin'


def test_a_quarter_in_dimensions_is_a_time_dimension(engine):
    data = _result(engine, {'measures': COUNT, 'dimensions': ['TrackedEvents.derivedTstamp.quarter']})['data']

    assert data == [
        {
            'TrackedEvents.derivedTstamp.quarter': '2024-04-01T00:00:00.000',
            'TrackedEvents.derivedTstamp': '2024-04-01T00:00:00.000',
            'TrackedEvents.count': '6',
        }
    ]


@pytest.mark.parametrize(
    ('query', 'message'),
    [
        (True, "TypeError: Cannot create property 'cacheMode' on boolean 'true'"),
        (5, "TypeError: Cannot create property 'cacheMode' on number '5'"),
        ('"abc"', "TypeError: Cannot create property 'cacheMode' on string 'abc'"),
        (
            {'measures': COUNT, 'dimensions': ['TrackedEvents.pageUrlpath'], 'ungrouped': True}
            | {'filters': [{'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['1']}]},
            "Measure filters aren't allowed in ungrouped query",
        ),
        (
            {'measures': COUNT, 'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'x'}]},
            'Granularity "x" does not exist in dimension TrackedEvents.derivedTstamp',
        ),
        ({'measures': COUNT, 'limit': -1}, 'Invalid query format: "limit" must be greater than or equal to 0'),
        ({'measures': COUNT, 'order': {'a-b': 'asc'}}, 'Invalid query format: "order.a-b" is not allowed'),
        ({'measures': COUNT, 'order': ['x']}, 'Invalid query format: "order[0]" must be an array'),
        (
            {'measures': COUNT, 'filters': [{'or': [{'member': 'TrackedEvents.pageUrl', 'operator': 'no'}]}]},
            'Invalid query format: "filters[0]" does not match any of the allowed types',
        ),
        (
            {'measures': COUNT, 'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': []}]},
            'Invalid query format: "timeDimensions[0].dateRange" must contain at least 1 items',
        ),
        (
            {'measures': COUNT, 'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': 5}]},
            'Invalid query format: "timeDimensions[0].dateRange" must be one of [array, string]',
        ),
    ],
)
def test_refusals_in_cube_1_7s_words(engine, query, message):
    assert _refusal(engine, query) == message


def test_a_hidden_member_is_refused_by_its_alias_when_there_are_rows(engine):
    assert _refusal(engine, {'measures': COUNT, 'dimensions': ['TrackedEvents.eventId']}) == (
        "Error: You requested hidden member: 'tracked_events__event_id'. Please make it visible using `public: true`. "
        'Please note primaryKey fields are `public: false` by default: '
        'https://cube.dev/docs/schema/reference/joins#setting-a-primary-key.'
    )


def test_a_hidden_member_is_refused_by_its_name_when_there_are_none(engine):
    nothing = [{'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': ['/nowhere']}]
    message = _refusal(engine, {'measures': COUNT, 'dimensions': ['TrackedEvents.eventId'], 'filters': nothing})

    assert message.startswith("Error: You requested hidden member: 'TrackedEvents.eventId'.")


def test_ungrouped_counts_are_one_per_row_and_ratios_of_them_are_computed(engine):
    query = {'measures': ['Sessions.count', 'Sessions.averagePerUser'], 'ungrouped': True}

    data = _result(engine, query)['data']

    # every session row counts once, for a user who is there: 1.0 * 1 / 1
    assert data and all(row == {'Sessions.count': '1', 'Sessions.averagePerUser': '1'} for row in data)


# --- dates (expected values read from Cube 1.7.43 at 2024-04-20T12:00Z, a Saturday) ---------------------------------

SATURDAY = datetime(2024, 4, 20, 12, tzinfo=UTC)
TIME = 'TrackedEvents.derivedTstamp'


def _where(query: dict) -> str:
    _, _, compiled = compile_request(query, '1', Target('duckdb', 'events'), SATURDAY)
    return compiled[0].sql.split(' WHERE ', 2)[-1]


@pytest.mark.parametrize(
    ('operator', 'compared'),
    [
        ('afterDate', "> CAST('2024-04-14 23:59:59.999+00'"),  # the end of last week
        ('beforeOrOnDate', "<= CAST('2024-04-14 23:59:59.999+00'"),
        ('afterOrOnDate', ">= CAST('2024-04-08 00:00:00.000+00'"),  # its start
        ('beforeDate', "< CAST('2024-04-08 00:00:00.000+00'"),
    ],
)
def test_a_relative_value_of_a_one_date_operator_is_compared_with_cubes_end_of_its_range(operator, compared):
    where = _where({'measures': COUNT, 'filters': [{'member': TIME, 'operator': operator, 'values': ['last week']}]})

    assert compared in where


@pytest.mark.parametrize(
    ('value', 'instant'),
    [('2024-04-10T10:00:00Z', '2024-04-10 10:00:00.000'), ('2024-04-10T10:00:00+05:00', '2024-04-10 05:00:00.000')],
)
def test_a_filter_value_with_an_offset_is_that_instant_in_any_time_zone(value, instant):
    query = {'measures': COUNT, 'timezone': 'Europe/Berlin'}
    query['filters'] = [{'member': TIME, 'operator': 'afterDate', 'values': [value]}]

    assert f"> CAST('{instant}+00'" in _where(query)


def test_a_date_range_with_an_offset_is_read_as_a_wall_clock_time_as_cube_reads_it():
    query = {'measures': COUNT, 'timezone': 'Europe/Berlin'}
    query['timeDimensions'] = [{'dimension': TIME, 'dateRange': ['2024-04-10T10:00:00Z', '2024-04-12T10:00:00Z']}]

    assert ">= CAST('2024-04-10 08:00:00.000+00'" in _where(query)  # 10:00 in Berlin


@pytest.mark.parametrize(
    ('expression', 'day'),
    [
        ('last monday', '2024-04-15'),
        ('next friday', '2024-04-26'),
        ('friday', '2024-04-19'),
        ('next sunday', '2024-04-28'),
        ('on friday', '2024-04-19'),
        ('from 3 days ago', '2024-04-17'),
    ],
)
def test_chrono_weekdays_and_a_lone_from(expression, day):
    assert parse_date_range(expression, 'UTC', SATURDAY) == [f'{day}T00:00:00.000', f'{day}T23:59:59.999']


def test_one_time_dimension_in_two_granularities_orders_by_and_shows_the_finest(engine):
    query = {'measures': COUNT, 'timeDimensions': [{'dimension': TIME, 'granularity': g} for g in ('day', 'month')]}
    query['timeDimensions'][0]['granularity'], query['timeDimensions'][1]['granularity'] = 'month', 'day'

    rows = _result(engine, query)['data']

    assert [row['TrackedEvents.derivedTstamp'] for row in rows] == [row[f'{TIME}.day'] for row in rows]
    assert [row[f'{TIME}.day'] for row in rows] == sorted(row[f'{TIME}.day'] for row in rows)
    assert len(rows) > 1


def test_a_raw_time_dimension_is_shown_in_the_query_time_zone(engine):
    def times(timezone: str) -> list[str]:
        query = {'dimensions': [TIME], 'timezone': timezone, 'order': {TIME: 'asc'}, 'limit': 1}
        return [row[TIME] for row in _result(engine, query)['data']]

    # the first event, 2024-05-06 10:00 UTC, is 03:00 in Los Angeles (PDT, UTC-7)
    assert (times('UTC'), times('America/Los_Angeles')) == (['2024-05-06T10:00:00.000'], ['2024-05-06T03:00:00.000'])


@pytest.mark.parametrize(
    ('operator', 'values'),
    [
        ('afterDate', ['2024-04-14T23:59:59.999']),
        ('beforeDate', ['2024-04-08T00:00:00.000']),
        ('inDateRange', ['2024-04-08T00:00:00.000', '2024-04-14T23:59:59.999']),
    ],
)
def test_a_relative_filter_value_is_echoed_resolved(operator, values):
    query = {'measures': COUNT, 'filters': [{'member': TIME, 'operator': operator, 'values': ['last week']}]}

    _, queries, _ = compile_request(query, '1', Target('duckdb', 'events'), SATURDAY)

    assert queries[0].echo['filters'] == [{'member': TIME, 'operator': operator, 'values': values}]


def test_a_relative_value_among_two_is_refused_with_cubes_message():
    query = {'measures': COUNT, 'filters': [{'member': TIME, 'operator': 'inDateRange', 'values': ['x', 'today']}]}

    with pytest.raises(CubeQueryError) as raised:
        compile_request(query, '1', Target('duckdb', 'events'), SATURDAY)

    assert raised.value.message == (
        'Relative-date strings are only supported when `values` has a single element for operator `inDateRange`. '
        'Pass an absolute two-element [start, end] pair, or a single relative string like ["last 2 weeks"]. '
        'Got: ["x","today"]'
    )


def test_compact_lists_the_bare_time_key_after_every_column_and_no_members_without_rows(engine):
    query = {'measures': COUNT, 'dimensions': ['TrackedEvents.pageUrlpath'], 'responseFormat': 'compact'}
    query['timeDimensions'] = [{'dimension': TIME, 'granularity': 'month'}]

    data = _result(engine, query)['data']
    nothing = _result(
        engine,
        query | {'filters': [{'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': ['/nowhere']}]},
    )['data']

    assert data['members'] == ['TrackedEvents.pageUrlpath', f'{TIME}.month', 'TrackedEvents.count', TIME]
    assert nothing == {'members': [], 'dataset': []}


def test_the_queries_of_a_blending_array_answer_rows_even_when_they_ask_for_compact(engine):
    by_month = {'measures': COUNT, 'timeDimensions': [{'dimension': TIME, 'granularity': 'month'}]}
    body = load([by_month | {'responseFormat': 'compact'}, by_month], '1', engine, now=NOW, query_type='multi')

    assert all(isinstance(result['data'], list) for result in body['results'])


def test_a_group_mixing_a_measure_and_a_dimension_is_refused_in_cubes_words(engine):
    group = {
        'or': [
            {'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['1']},
            {'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': ['/docs']},
        ]
    }

    assert _refusal(engine, {'measures': COUNT, 'filters': [group]}) == (
        'You cannot use dimension and measure in same condition: {"or":[{"member":"TrackedEvents.count",'
        '"operator":"gt","values":["1"]},{"member":"TrackedEvents.pageUrlpath","operator":"equals","values":["/docs"]}]}'
    )


def test_a_string_operator_on_a_measure_is_refused(engine):
    leaf = {'member': 'TrackedEvents.count', 'operator': 'contains', 'values': ['1']}

    assert _refusal(engine, {'measures': COUNT, 'filters': [leaf]}) == (
        "contains can not be used with measures: 'TrackedEvents.count'"
    )


def test_a_hidden_members_alias_is_named_as_cube_names_it(engine):
    message = _refusal(engine, {'measures': ['Sessions.count'], 'dimensions': ['Sessions.sessionID']})

    assert message.startswith("Error: You requested hidden member: 'sessions__session_i_d'.")
