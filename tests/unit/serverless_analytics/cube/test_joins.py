"""Joins, views, rolling windows and case dimensions answer as Cube 1.7.43 does.

The expected answers (joins/expected.json) are real Cube's, from the same model (joins/model/) on the same seeded
lake; `python -m tests.unit.serverless_analytics.cube.joins.regenerate` writes them again. Rows are compared as
multisets except where the query's order determines them (a time series, an ordered limit).
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import sqlglot

from serverless_analytics.cube import Target, compile_request, load, meta
from serverless_analytics.cube.datamodel import load_model
from serverless_analytics.engines import DuckDBEngine
from serverless_analytics.models.errors import CubeModelError, CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW as SMALL_NOW
from tests.unit.serverless_analytics.cube.joins.lake import NOW, PROJECT, write_test_lake

HERE = Path(__file__).parent / 'joins'
EXPECTED = {case['id']: case for case in json.loads((HERE / 'expected.json').read_text())}


@pytest.fixture(scope='module')
def model():
    return load_model(HERE / 'model')


@pytest.fixture(scope='module')
def joins_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp('joins-lake')
    write_test_lake(root)
    engine = DuckDBEngine(str(root))
    yield engine
    engine.close()


def _answer(query: dict, engine, model) -> dict:
    try:
        body = load(query, PROJECT, engine, now=NOW, query_type='multi', model=model)
    except CubeQueryError as error:
        return {'error': error.message}
    return body['results'][0]


def _ordered(query: dict) -> bool:
    """Rows whose order the query fixes: one time series, or an explicit order with a limit."""
    granular = [td for td in query.get('timeDimensions', []) if td.get('granularity')]
    return (bool(granular) and not query.get('dimensions')) or ('order' in query and 'limit' in query)


def _multiset(rows: list[dict]) -> Counter:
    return Counter(json.dumps(row, sort_keys=True) for row in rows)


@pytest.mark.parametrize('case_id', sorted(EXPECTED))
def test_answers_as_cube(case_id, joins_engine, model):
    expected = EXPECTED[case_id]
    answer = _answer(expected['query'], joins_engine, model)
    if 'error' in expected:
        assert answer == {'error': expected['error']}
        return
    assert 'error' not in answer, answer
    if _ordered(expected['query']):
        assert answer['data'] == expected['data']
    else:
        assert _multiset(answer['data']) == _multiset(expected['data'])
    assert answer['annotation'] == expected['annotation']
    if 'total' in expected:
        assert answer['total'] == expected['total']


# --- the shipped model: TrackedEvents many_to_one Sessions and ReturningUsers, Sessions many_to_one ReturningUsers


def test_shipped_model_joins_events_to_sessions(engine):
    """Each session's duration counts once per session however many events join it (Cube's multiplied avg)."""
    query = {
        'measures': ['TrackedEvents.count', 'Sessions.count', 'Sessions.averageDurationMinutes'],
        'dimensions': ['Sessions.agentName'],
    }
    body = load(query, '1', engine, now=SMALL_NOW, query_type='multi')
    rows = {row['Sessions.agentName']: row for row in body['results'][0]['data']}
    assert rows['Chrome'] == {
        'Sessions.agentName': 'Chrome',
        'TrackedEvents.count': '3',
        'Sessions.count': '2',
        'Sessions.averageDurationMinutes': '2.5',  # (5 + 0) / 2 sessions, not (5 + 5 + 0) / 3 events
    }
    assert (rows['Firefox']['TrackedEvents.count'], rows['Firefox']['Sessions.count']) == ('2', '2')


def test_shipped_model_joins_sessions_to_returning_users(engine):
    query = {'measures': ['Sessions.count', 'ReturningUsers.count'], 'dimensions': ['ReturningUsers.sessionsCount']}
    body = load(query, '1', engine, now=SMALL_NOW, query_type='multi')
    rows = {row['ReturningUsers.sessionsCount']: row for row in body['results'][0]['data']}
    assert rows['2'] == {'ReturningUsers.sessionsCount': '2', 'Sessions.count': '4', 'ReturningUsers.count': '2'}
    assert rows['1'] == {'ReturningUsers.sessionsCount': '1', 'Sessions.count': '1', 'ReturningUsers.count': '1'}


def _trino_sql(query: dict) -> str:
    _, _, compiled = compile_request(query, '42', Target('trino', 'lake.events'), SMALL_NOW)
    return compiled[0].sql


def _scans(sql: str) -> list[str]:
    """The WHERE of every read of the lake: `project_id = … AND dt …`."""
    return re.findall(r'FROM lake\.events WHERE ([^)]*)\)', sql)


def test_joined_scans_keep_project_and_their_own_partition_margin():
    sql = _trino_sql(
        {
            'measures': ['TrackedEvents.count', 'Sessions.count'],
            'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': ['2024-05-06', '2024-05-08']}],
        }
    )
    assert _scans(sql) == [
        "project_id = '42' AND dt >= '2024-05-06' AND dt <= '2024-05-08'",  # events: the range
        "project_id = '42' AND dt >= '2024-05-05' AND dt <= '2024-05-09'",  # sessions: a day of margin
    ]  # and no read of the users' history: no member of the query needs it


@pytest.mark.parametrize(
    ('regular', 'sessions_reads'),
    [
        ('TrackedEvents.count', 2),  # the keys with per-key event counts, joined back to the sessions
        ('TrackedEvents.uniqueUsersCount', 3),  # not additive: Cube's regular and keys sub-queries, joined back
    ],
)
def test_a_range_on_a_joined_cube_bounds_every_scan_with_that_cube_margin(regular, sessions_reads):
    sql = _trino_sql(
        {
            'measures': [regular, 'Sessions.averageDurationMinutes'],
            'timeDimensions': [{'dimension': 'Sessions.startAt', 'dateRange': ['2024-05-06', '2024-05-08']}],
        }
    )
    # one read of the lake per cube (a CTE the sub-queries share), each a day beyond the range; none of the users'
    # history: no member of the query needs it
    assert _scans(sql) == ["project_id = '42' AND dt >= '2024-05-05' AND dt <= '2024-05-09'"] * 2
    assert sql.count('sessions__source1 AS "sessions"') == sessions_reads


def test_a_range_reads_the_user_session_index_beside_the_range_and_never_the_whole_lake():
    target = Target('trino', 'lake.events', user_sessions_source=lambda project: 'lake.user_sessions')
    query = {
        'measures': ['Sessions.repeatCount', 'ReturningUsers.count'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'dateRange': ['2024-05-06', '2024-05-08']}],
    }
    sql = compile_request(query, '42', target, SMALL_NOW)[2][0].sql
    assert set(_scans(sql)) == {
        "project_id = '42' AND dt >= '2024-05-05' AND dt <= '2024-05-09'",  # the range, and a day of margin
        "project_id = '42' AND dt >= '2024-05-14'",  # from yesterday: days the rollup may not have indexed yet
    }
    index_reads = re.findall(r'FROM lake\.user_sessions WHERE ([^)]*?) UNION ALL', sql)
    assert index_reads == ["project_id = '42'"] * 2  # the history of Sessions' users and of ReturningUsers


def test_joined_and_rolling_sql_is_trino_sql(model):
    for case_id in ('m2o_multiplied', 'o2m_no_dimensions', 'rolling_count_distinct', 'rolling_time_zone'):
        _, _, compiled = compile_request(EXPECTED[case_id]['query'], '7', Target('trino', 'lake.events'), NOW, model)
        sqlglot.parse_one(compiled[0].sql, read='trino')
        assert len(_scans(compiled[0].sql)) >= 1
        assert all(scan.startswith("project_id = '7'") for scan in _scans(compiled[0].sql))


# --- the data model: what Cube refuses at compile time, and /v1/meta

_EVENTS = """
  - name: A
    sql_table: events
    measures: [{name: count, type: count}]
    dimensions: [{name: id, type: string, sql: "{CUBE}.event_id", primary_key: true}]
"""


@pytest.mark.parametrize(
    ('yaml_text', 'message'),
    [
        (
            'cubes:' + _EVENTS + '    joins: [{name: Nope, relationship: many_to_one, sql: "1 = 1"}]\n',
            "Cube Nope doesn't exist",
        ),
        (
            'cubes:'
            + _EVENTS
            + '    joins: [{name: B, relationship: many_to_one, sql: "{CUBE}.x = {B}.x"}]\n'
            + '  - name: B\n    sql_table: events\n    measures: [{name: total, type: sum, sql: "1"}]\n',
            "primary key for 'B' is required when join is defined in order to make aggregates work properly",
        ),
        (
            'cubes:' + _EVENTS + 'views:\n  - name: V\n    cubes: [{join_path: A, includes: [count, nope]}]\n',
            "Member 'nope' is included in 'V' but not defined in any cube",
        ),
        (
            'cubes:'
            + _EVENTS
            + 'views:\n  - name: V\n    cubes: [{join_path: A, includes: [count]}, {join_path: A, includes: [count]}]\n',
            "Included member 'count' conflicts with existing member of 'V'",
        ),
        (
            'cubes:' + _EVENTS + '    segments: [{name: s, sql: "{Other.id} > 1"}]\n',
            'references to other cubes are only supported in joins',
        ),
        (
            'cubes:' + _EVENTS.replace('type: count}', 'type: number, sql: "1", rolling_window: {trailing: 1 day}}'),
            'rolling_window needs an aggregate',
        ),
        ('cubes:' + _EVENTS.replace('type: count}', 'type: count, rolling_window: {trailing: 7 days ago}}'), 'pattern'),
    ],
)
def test_model_errors(tmp_path, yaml_text, message):
    (tmp_path / 'model.yml').write_text(yaml_text)
    with pytest.raises(CubeModelError) as raised:
        load_model(tmp_path)
    assert message in str(raised.value)


def test_meta_shows_views_components_and_rolling_measures(model):
    cubes = {cube['name']: cube for cube in meta(model)['cubes']}
    assert (cubes['Activity']['type'], cubes['Events']['type']) == ('view', 'cube')
    assert 'connectedComponent' not in cubes['Lonely'] and 'connectedComponent' not in cubes['Activity']
    assert cubes['Events']['connectedComponent'] == cubes['UserBrowsers']['connectedComponent']
    measures = {m['name']: m for cube in cubes.values() for m in cube['measures']}
    assert measures['Events.rollingCount7d']['cumulative'] is True
    assert measures['Activity.rollingCount7d']['cumulative'] is False
    assert measures['Activity.Sessions_count']['aliasMember'] == 'Sessions.count'
    assert measures['Activity.Sessions_count']['title'] == 'Activity Sessions Count'


def test_ungrouped_query_with_a_multiplied_measure_has_one_row_per_joined_row(joins_engine, model):
    """A deliberate deviation (docs/cube.md): Cube 1.7 joins the ungrouped rows of its sub-queries on the
    dimensions, a row per pair; the product answers each joined row once, with the session's own value."""
    auth = [{'member': 'Events.category', 'operator': 'equals', 'values': ['auth']}]
    grouped = _answer({'measures': ['Events.count'], 'filters': auth}, joins_engine, model)
    query = {
        'measures': ['Events.count', 'Sessions.totalEvents'],
        'dimensions': ['Events.category', 'Sessions.browser'],
        'filters': auth,
        'ungrouped': True,
    }
    rows = _answer(query, joins_engine, model)['data']
    assert len(rows) == int(grouped['data'][0]['Events.count'])
    assert {row['Events.count'] for row in rows} == {'1'}
