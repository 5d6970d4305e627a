"""Property: whatever JSON a client sends as the query, the compiler's entry points answer or raise
`CubeQueryError` (a 400 UserError, or Cube's 500 for a limit over 50,000), never another exception, which the
HTTP layer would answer as "backend unavailable".

Each query key gets either a plausible value (so that examples reach the normaliser and compiler, not only the
schema) or arbitrary JSON; the plausible values include the dates, numbers and names that once escaped.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_analytics.cube import Target, compile_request, dry_run, load
from serverless_analytics.cube.query import normalize_request
from serverless_analytics.models.errors import CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW

MEASURES = ['TrackedEvents.count', 'TrackedEvents.averageLatencyMs', 'TrackedEvents.uniqueUsersCount']
DIMENSIONS = [
    'TrackedEvents.pageUrlpath',
    'TrackedEvents.latencyMs',
    'TrackedEvents.isBot',
    'TrackedEvents.derivedTstamp',
    'TrackedEvents.derivedTstamp.day',
    'TrackedEvents.nope',
]
TIMES = ['TrackedEvents.derivedTstamp', 'TrackedEvents.utcTime', 'TrackedEvents.pageUrlpath']
OPERATORS = ['equals', 'notEquals', 'contains', 'in', 'gt', 'lte', 'set', 'notSet', 'inDateRange']
OPERATORS += ['notInDateRange', 'onTheDate', 'beforeDate', 'afterOrOnDate', 'measureFilter', 'bogus']
DATES = [
    '2024-01-01',
    '2024-13-45',
    '0001-01-01',
    '9999-12-31',
    '0000-01-01',
    '10000-01-01',
    '2024-02-30T10:00:00Z',
    '0001-01-01T00:00:00+14:00',
    '9999-12-31T23:59:59.999-14:00',
    'last 7 days',
    'last 100000000 years',
    'next 9000 years',
    'last 2023 years',
    'last 9999999999999 seconds',
    'last ' + '9' * 5_000 + ' days',
    'from 9999-12-31 to 9999-12-31',
    'from 0001-01-01 to now',
    'this week',
    'today',
    '31 Feb 2024',
]
NUMBERS = ['1e308', '-1e400', '9' * 30, '1.5', 'NaN', '0x10', '-9223372036854775809', 2**70, 1e300]
TIMEZONES = ['UTC', 'America/New_York', 'Pacific/Kiritimati', 'Nope/Zone', 'a/' * 100, '\x00', '']

json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def usually(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """`strategy` 19 times in 20, arbitrary JSON otherwise."""
    return st.integers(0, 19).flatmap(lambda n: json_values if n == 0 else strategy)


def rarely(special: list, strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(special) if n == 0 else strategy)


def queries(shaped) -> st.SearchStrategy:
    """Cube queries whose every part goes through `shaped` (`usually`, or as is for well-shaped queries that all
    reach the compiler with their hostile dates, numbers and names)."""
    hostile_values = st.sampled_from(DATES + NUMBERS + ['true', 'a\x00b', '%_\\', 'a\ud800'])
    conditions = st.fixed_dictionaries(
        {
            'member': shaped(st.sampled_from(DIMENSIONS + MEASURES)),
            'operator': shaped(st.sampled_from(OPERATORS)),
            'values': shaped(st.lists(shaped(hostile_values), min_size=1, max_size=3)),
        },
    )
    groups = st.builds(
        lambda kind, items: {kind: items}, st.sampled_from(['or', 'and']), st.lists(conditions, max_size=2)
    )
    date_ranges = st.sampled_from(DATES) | st.lists(st.sampled_from(DATES), min_size=1, max_size=2)
    time_dimensions = st.fixed_dictionaries(
        {'dimension': shaped(st.sampled_from(TIMES)), 'dateRange': shaped(date_ranges)},
        optional={'granularity': shaped(st.sampled_from(['day', 'week', 'quarter', 'hour', None]))},
    ) | st.fixed_dictionaries(
        {'dimension': st.sampled_from(TIMES), 'compareDateRange': st.lists(date_ranges, max_size=3)}
    )
    members = st.sampled_from(MEASURES + DIMENSIONS)
    orders = st.dictionaries(members, st.sampled_from(['asc', 'desc']), max_size=2) | st.lists(
        st.tuples(members, st.sampled_from(['asc', 'desc'])).map(list), max_size=2
    )
    return st.fixed_dictionaries(
        {'measures': shaped(st.lists(st.sampled_from(MEASURES), min_size=1, max_size=2))},
        optional={
            'dimensions': shaped(st.lists(st.sampled_from(DIMENSIONS), max_size=2)),
            'timeDimensions': shaped(st.lists(time_dimensions, max_size=2)),
            'filters': shaped(st.lists(conditions | groups, max_size=3)),
            'segments': shaped(st.lists(st.just('TrackedEvents.knownUsers'), max_size=1)),
            'order': shaped(orders),
            'timezone': shaped(st.sampled_from(TIMEZONES)),
            'limit': shaped(rarely([2**70, 60_000, '100', '9' * 5_000], st.integers(1, 1_000))),
            'offset': shaped(rarely([2**70, -1, 2**53, 2**53 - 1, 1e300], st.integers(0, 100))),
            'total': shaped(st.booleans()),
            'ungrouped': shaped(st.booleans()),
            'responseFormat': shaped(st.sampled_from(['default', 'compact'])),
        },
    )


well_shaped = queries(lambda strategy: strategy)
anything = st.integers(0, 19).flatmap(
    lambda n: {0: json_values, 1: st.lists(queries(usually), max_size=3), 2: well_shaped.map(json.dumps)}.get(
        n, queries(usually)
    )
)
examples = settings(
    max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def _answers_or_refuses(call) -> None:
    try:
        call()
    except CubeQueryError as error:
        assert isinstance(error.message, str) and error.message


@examples
@given(anything)
def test_normalisation_only_raises_user_errors(query):
    _answers_or_refuses(lambda: normalize_request(query, NOW))


@examples
@given(anything | well_shaped)
def test_dry_run_only_raises_user_errors(query):
    _answers_or_refuses(lambda: dry_run(query, now=NOW))


@examples
@given(well_shaped, st.sampled_from(['duckdb', 'trino']))
def test_compiling_for_either_engine_only_raises_user_errors(query, dialect):
    _answers_or_refuses(lambda: compile_request(query, '1', Target(dialect, 'events'), NOW))


@settings(examples, max_examples=60)
@given(query=well_shaped)
def test_loads_only_raise_user_errors(engine, query):
    """The engine never gets a value it fails to convert: every SQL the compiler lets through runs."""
    _answers_or_refuses(lambda: load(query, '1', engine, now=NOW, query_type='multi'))
