"""The export's SQL: always scoped to the project and the window's partitions, values only as literals."""

from datetime import UTC, datetime

import pytest
import sqlglot

from serverless_analytics.cube.target import Target
from serverless_analytics.engines import DuckDBEngine
from serverless_analytics.logic.export_periods import Window
from serverless_analytics.logic.export_sql import EventSelection, count_sql, daily_counts_sql, events_page_sql
from serverless_analytics.models.export import EventFilters

WINDOW = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
ATHENA = Target('athena', '"product_analytics"."events"')
HOSTILE = "x'); DROP TABLE events; --"


@pytest.fixture(scope='module')
def engine():
    engine = DuckDBEngine(lake_source='lake')
    engine.connection.execute(
        """CREATE TABLE lake AS SELECT * FROM (VALUES
            ('e1', '1', '2026-10-05', TIMESTAMPTZ '2026-10-05 10:00:00+00', 'khub.search', 'u1',
             ['internal'], ['TechWriter'], ['ADMIN']),
            ('e2', '1', '2026-10-05', TIMESTAMPTZ '2026-10-05 10:00:00+00', 'khub.search', 'u2', [], [], []),
            ('e3', '2', '2026-10-06', TIMESTAMPTZ '2026-10-06 10:00:00+00', 'khub.search', 'u1', [], [], []),
            ('e4', '1', '2026-11-01', TIMESTAMPTZ '2026-11-01 00:00:00+00', 'khub.search', 'u1', [], [], [])
        ) AS t(event_id, project_id, dt, "timestamp", name, user_id, user_realm, user_groups, user_roles)"""
    )
    yield engine
    engine.close()


def _ids(engine, selection: EventSelection) -> list[str]:
    """The ids of the page query's rows, oldest first (only its first column is kept)."""
    select = sqlglot.parse_one(events_page_sql(selection, Target('duckdb', 'lake'), False, 10, 0), read='duckdb')
    select.set('expressions', [sqlglot.exp.column('event_id')])
    return [row[0] for row in engine.execute(select.sql('duckdb')).rows]


def test_only_the_projects_events_of_the_window(engine):
    assert _ids(engine, EventSelection('1', WINDOW)) == ['e1', 'e2']
    assert _ids(engine, EventSelection('2', WINDOW)) == ['e3']
    assert engine.execute(count_sql(EventSelection('1', WINDOW), Target('duckdb', 'lake'))).rows == [(2,)]


def test_list_filters_match_any_value(engine):
    assert _ids(engine, EventSelection('1', WINDOW, realms=['nope', 'internal'])) == ['e1']
    assert _ids(engine, EventSelection('1', WINDOW, groups=['TechWriter'], roles=['ADMIN'])) == ['e1']
    assert _ids(engine, EventSelection('1', WINDOW, user_ids=['u2', 'u9'])) == ['e2']


def test_hostile_values_are_only_values(engine):
    selection = EventSelection(HOSTILE, WINDOW, [HOSTILE], [HOSTILE], [HOSTILE], [HOSTILE], [HOSTILE])
    assert _ids(engine, selection) == []
    assert _ids(engine, EventSelection('1', WINDOW, names=[HOSTILE])) == []
    assert engine.execute('SELECT count(*) FROM lake').rows == [(4,)]


def test_athena_sql_parses_as_trino_with_every_scope_predicate():
    selection = EventSelection('1', WINDOW, names=['a'], realms=['r'], groups=['g', 'h'])
    for sql in (events_page_sql(selection, ATHENA, True, 100, 200), count_sql(selection, ATHENA)):
        where = sqlglot.parse_one(sql, read='trino').args['where'].sql('trino')
        assert "project_id = '1' AND dt >= '2026-10-01' AND dt <= '2026-10-31'" in where
        assert '"timestamp" >= CAST(\'2026-10-01 00:00:00.000\' AS TIMESTAMP)' in where
        assert '"timestamp" < CAST(\'2026-11-01 00:00:00.000\' AS TIMESTAMP)' in where
        assert 'CONTAINS("user_realm", \'r\')' in where
        assert '(CONTAINS("user_groups", \'g\') OR CONTAINS("user_groups", \'h\'))' in where


def test_athena_page_is_ordered_by_time_then_id_with_its_total():
    sql = events_page_sql(EventSelection('1', WINDOW), ATHENA, True, 100, 200)
    assert sql.endswith('ORDER BY "timestamp" DESC, "event_id" DESC OFFSET 200 LIMIT 100')
    assert 'COUNT(*) OVER () AS total_count' in sql
    assert 'JSON_FORMAT(CAST("user_groups" AS JSON)) AS user_groups' in sql


def test_daily_counts_group_by_name_and_partition(engine):
    rows = engine.execute(daily_counts_sql(EventSelection('1', WINDOW), Target('duckdb', 'lake'))).rows
    assert rows == [('khub.search', '2026-10-05', 2)]


def test_a_requests_filters_select_names_and_every_user_part():
    filters = EventFilters.model_validate(
        {'name': ['a', 'b', 'a'], 'user': {'id': 'u1', 'realm': ['r'], 'group': ['g'], 'role': ['x', 'y']}}
    )

    selection = EventSelection.of('1', WINDOW, filters)

    assert selection == EventSelection('1', WINDOW, ['a', 'b'], ['u1'], ['r'], ['g'], ['x', 'y'])


def test_daily_counts_take_the_user_filters(engine):
    by_group = EventSelection.of('1', WINDOW, EventFilters.model_validate({'user': {'group': ['TechWriter']}}))
    by_id = EventSelection.of('1', WINDOW, EventFilters.model_validate({'user': {'id': 'u2'}}))
    target = Target('duckdb', 'lake')

    assert engine.execute(daily_counts_sql(by_group, target)).rows == [('khub.search', '2026-10-05', 1)]
    assert engine.execute(daily_counts_sql(by_id, target)).rows == [('khub.search', '2026-10-05', 1)]
