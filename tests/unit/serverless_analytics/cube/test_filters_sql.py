"""Each filter operator's SQL (spec §1.3 NULL and case rules), rendered for DuckDB and Trino."""

import pytest
import sqlglot

from serverless_analytics.cube import Target, compile_request
from tests.unit.serverless_analytics.cube.conftest import NOW

COL = '"tracked_events".page_path'
TS = '"tracked_events".timestamp'


def _where(leaf: dict, dialect: str = 'duckdb', timezone: str = 'UTC') -> str:
    query = {'measures': ['TrackedEvents.count'], 'filters': [leaf], 'timezone': timezone}
    _, _, compiled = compile_request(query, '1', Target(dialect, 'events'), NOW)
    return _clause(compiled[0].sql, 'where', dialect)


def _clause(sql: str, clause: str, dialect: str = 'duckdb') -> str:
    """The condition of the outer query's WHERE or HAVING, as the compiled SQL text has it."""
    return sqlglot.parse_one(sql, read=dialect).args[clause].this.sql(dialect=dialect)


def _leaf(operator, values=None, member='TrackedEvents.pageUrlpath'):
    leaf = {'member': member, 'operator': operator}
    if values is not None:
        leaf['values'] = values
    return leaf


@pytest.mark.parametrize(
    ('operator', 'values', 'sql'),
    [
        ('equals', ['/a'], f"({COL} = '/a')"),
        ('equals', ['/a', '/b'], f"({COL} IN ('/a', '/b'))"),
        ('equals', [None], f'{COL} IS NULL'),
        ('equals', ['/a', None], f"({COL} IN ('/a') OR {COL} IS NULL)"),
        ('in', ['/a', '/b'], f"({COL} IN ('/a', '/b'))"),
        ('notEquals', ['/a'], f"({COL} <> '/a' OR {COL} IS NULL)"),
        ('notEquals', ['/a', '/b'], f"(NOT {COL} IN ('/a', '/b') OR {COL} IS NULL)"),
        ('notEquals', [None], f'NOT {COL} IS NULL'),
        ('notEquals', ['/a', None], f"(NOT {COL} IN ('/a'))"),
        ('notIn', ['/a', '/b'], f"(NOT {COL} IN ('/a', '/b') OR {COL} IS NULL)"),
        ('contains', ['a_%'], f"(({COL} ILIKE '%a\\_\\%%' ESCAPE '\\'))"),
        ('contains', ['a', 'b'], f"(({COL} ILIKE '%a%' ESCAPE '\\' OR {COL} ILIKE '%b%' ESCAPE '\\'))"),
        ('contains', ['a', None], f"(({COL} ILIKE '%a%' ESCAPE '\\') OR {COL} IS NULL)"),
        (
            'notContains',
            ['a', 'b'],
            f"((NOT {COL} ILIKE '%a%' ESCAPE '\\' AND NOT {COL} ILIKE '%b%' ESCAPE '\\') OR {COL} IS NULL)",
        ),
        ('notContains', ['a', None], f"((NOT {COL} ILIKE '%a%' ESCAPE '\\'))"),
        ('startsWith', ['/d'], f"(({COL} ILIKE '/d%' ESCAPE '\\'))"),
        ('notStartsWith', ['/d'], f"((NOT {COL} ILIKE '/d%' ESCAPE '\\') OR {COL} IS NULL)"),
        ('endsWith', ['s'], f"(({COL} ILIKE '%s' ESCAPE '\\'))"),
        ('notEndsWith', ['s'], f"((NOT {COL} ILIKE '%s' ESCAPE '\\') OR {COL} IS NULL)"),
        ('gt', ['/b', '/z'], f"{COL} > '/b'"),
        ('gte', ['/b'], f"{COL} >= '/b'"),
        ('lt', ['/b'], f"{COL} < '/b'"),
        ('lte', ['/b'], f"{COL} <= '/b'"),
        ('set', None, f'NOT {COL} IS NULL'),
        ('notSet', None, f'{COL} IS NULL'),
    ],
)
def test_string_operators(operator, values, sql):
    assert _where(_leaf(operator, values)) == sql


def _ts(text: str) -> str:
    return f"CAST('{text}+00' AS TIMESTAMPTZ)"


@pytest.mark.parametrize(
    ('operator', 'values', 'sql'),
    [
        (
            'inDateRange',
            ['2024-01-01', '2024-01-31'],
            f'{TS} >= {_ts("2024-01-01 00:00:00.000")} AND {TS} <= {_ts("2024-01-31 23:59:59.999")}',
        ),
        (
            'onTheDate',
            ['2024-01-05'],
            f'{TS} >= {_ts("2024-01-05 00:00:00.000")} AND {TS} <= {_ts("2024-01-05 23:59:59.999")}',
        ),
        (
            'notInDateRange',
            ['2024-01-01', '2024-01-31'],
            f'({TS} < {_ts("2024-01-01 00:00:00.000")} OR {TS} > {_ts("2024-01-31 23:59:59.999")})',
        ),
        ('beforeDate', ['2024-01-05'], f'{TS} < {_ts("2024-01-05 00:00:00.000")}'),
        ('beforeOrOnDate', ['2024-01-05'], f'{TS} <= {_ts("2024-01-05 00:00:00.000")}'),
        ('afterDate', ['2024-01-05'], f'{TS} > {_ts("2024-01-05 00:00:00.000")}'),
        ('afterOrOnDate', ['2024-01-05'], f'{TS} >= {_ts("2024-01-05 00:00:00.000")}'),
        (
            'inDateRange',
            ['last week'],
            f'{TS} >= {_ts("2024-05-06 00:00:00.000")} AND {TS} <= {_ts("2024-05-12 23:59:59.999")}',
        ),
    ],
)
def test_date_operators_utc(operator, values, sql):
    assert _where(_leaf(operator, values, 'TrackedEvents.derivedTstamp')) == sql


def test_date_range_is_local_to_the_query_timezone():
    sql = _where(
        _leaf('inDateRange', ['2024-01-01', '2024-01-01'], 'TrackedEvents.derivedTstamp'), timezone='America/New_York'
    )
    assert sql == f'{TS} >= {_ts("2024-01-01 05:00:00.000")} AND {TS} <= {_ts("2024-01-02 04:59:59.999")}'


def test_trino_case_insensitive_like_and_timestamps():
    assert _where(_leaf('contains', ['A']), 'trino') == f"((LOWER({COL}) LIKE LOWER('%A%') ESCAPE '\\'))"
    assert _where(_leaf('afterDate', ['2024-01-05'], 'TrackedEvents.derivedTstamp'), 'athena') == (
        f"{TS} > CAST('2024-01-05 00:00:00.000' AS TIMESTAMP)"
    )


def test_typed_literals_for_number_and_boolean_dimensions():
    assert _where(_leaf('gt', ['10.5'], 'TrackedEvents.latencyMs')) == (
        'TRY_CAST("tracked_events".properties ->> \'$.latency_ms\' AS DOUBLE) > 10.5'
    )
    assert _where(_leaf('equals', [True], 'TrackedEvents.isBot')) == '("tracked_events".is_bot = TRUE)'


def test_nested_groups_and_measure_filters_in_having():
    query = {
        'measures': ['TrackedEvents.count'],
        'dimensions': ['TrackedEvents.pageUrlpath'],
        'filters': [
            {'or': [_leaf('equals', ['/a']), {'and': [_leaf('set'), _leaf('startsWith', ['/d'])]}]},
            {'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['5']},
        ],
    }
    _, _, compiled = compile_request(query, '1', Target('duckdb', 'events'), NOW)
    assert _clause(compiled[0].sql, 'where') == (
        f"(({COL} = '/a') OR (NOT {COL} IS NULL AND (({COL} ILIKE '/d%' ESCAPE '\\'))))"
    )
    assert _clause(compiled[0].sql, 'having') == 'COUNT(*) > 5'


def test_measure_filter_operator_applies_the_measure_filters():
    leaf = {'member': 'TrackedEvents.pageViewsCount', 'operator': 'measureFilter'}
    assert _where(leaf) == '"tracked_events".category = \'page_view\''
