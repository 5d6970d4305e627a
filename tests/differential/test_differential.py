"""Differential tests: random valid Cube queries through compiler + DuckDBEngine vs the plain-Python reference.

Each case is generated from its own seeded RNG, so a failure names a reproducible query.
"""

import random
from collections import Counter
from datetime import date

import pytest

from serverless_analytics.cube import load
from tests.differential import reference
from tests.differential.lake import BROWSERS, NAMES, NOW, OSES, PATHS, PROJECTS, TITLES, VIEWPORTS

CASES = 400
TIMEZONES = ('UTC', 'UTC', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata')
GRANULARITIES = ('hour', 'day', 'week', 'month', 'quarter', 'year')
STRING_OPERATORS = (
    'equals',
    'notEquals',
    'in',
    'notIn',
    'contains',
    'notContains',
    'startsWith',
    'notStartsWith',
    'endsWith',
    'notEndsWith',
    'set',
    'notSet',
    'gt',
    'gte',
    'lt',
    'lte',
)
DOMAINS = {
    'TrackedEvents.eventName': NAMES,
    'TrackedEvents.event': ('page_view', 'auth', 'error', 'feature'),
    'TrackedEvents.pageUrlpath': PATHS,
    'TrackedEvents.docPath': PATHS,
    'TrackedEvents.pageTitle': TITLES,
    'TrackedEvents.agentName': BROWSERS,
    'TrackedEvents.osFamily': OSES,
    'TrackedEvents.userId': ('user-7-1', 'user-7-2', 'user-8-3', None),
    'TrackedEvents.viewportSize': VIEWPORTS,
}
FRAGMENTS = ('doc', 'DOC', '_', '%', "'", '\\', 'a', 'in', 'x', 'Home', 'e', '/')


def _values(rng: random.Random, member: str, operator: str) -> list:
    domain = [v for v in DOMAINS[member] if v is not None] or ['x']
    if operator in ('gt', 'gte', 'lt', 'lte'):
        return [rng.choice(domain)]
    if operator in ('contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith'):
        picks = [
            rng.choice(FRAGMENTS) if rng.random() < 0.5 else _slice(rng, rng.choice(domain))
            for _ in range(rng.randint(1, 2))
        ]
    else:
        picks = [
            rng.choice(domain) if rng.random() < 0.8 else rng.choice(domain).upper() for _ in range(rng.randint(1, 3))
        ]
    if rng.random() < 0.25:
        picks.append(None)
    return picks


def _slice(rng: random.Random, text: str) -> str:
    start = rng.randrange(len(text))
    return text[start : start + rng.randint(1, 4)]


def _date_range(rng: random.Random):
    if rng.random() < 0.5:
        return rng.choice(reference.RELATIVE_RANGES)
    first = NOW.date().toordinal() - rng.randrange(0, 50)
    days = [date.fromordinal(first).isoformat(), date.fromordinal(first + rng.randrange(0, 20)).isoformat()]
    return days if rng.random() < 0.8 else days[:1]


def _leaf(rng: random.Random) -> dict:
    member = rng.choice(list(DOMAINS))
    operator = rng.choice(STRING_OPERATORS)
    leaf = {'member' if rng.random() < 0.7 else 'dimension': member, 'operator': operator}
    if operator not in ('set', 'notSet'):
        leaf['values'] = _values(rng, member, operator)
    return leaf


def _date_leaf(rng: random.Random) -> dict:
    member = rng.choice(reference.TIME_DIMENSIONS)
    operator = rng.choice(('inDateRange', 'notInDateRange', 'beforeDate', 'afterDate', 'afterOrOnDate'))
    first = NOW.date().toordinal() - rng.randrange(0, 45)
    values = [date.fromordinal(first).isoformat(), date.fromordinal(first + rng.randrange(0, 15)).isoformat()]
    return {'member': member, 'operator': operator, 'values': values if 'Range' in operator else values[:1]}


def random_query(rng: random.Random) -> dict:
    query: dict = {}
    measures = rng.sample(list(reference.MEASURES), rng.choice((0, 1, 1, 2)))
    dimensions = rng.sample(list(DOMAINS), rng.choice((0, 1, 1, 2)))
    if measures:
        query['measures'] = measures
    if dimensions:
        query['dimensions'] = dimensions
    td = {'dimension': rng.choice(reference.TIME_DIMENSIONS)}
    if rng.random() < 0.5 or not (measures or dimensions):
        td['granularity'] = rng.choice(GRANULARITIES)
    if rng.random() < 0.6:
        td['dateRange'] = _date_range(rng)
    if len(td) > 1:
        query['timeDimensions'] = [td]
    query['timezone'] = rng.choice(TIMEZONES)
    filters = [_leaf(rng) for _ in range(rng.choice((0, 1, 1, 2)))]
    if rng.random() < 0.2:
        filters.append({rng.choice(('or', 'and')): [_leaf(rng), _leaf(rng)]})
    if rng.random() < 0.2:
        filters.append(_date_leaf(rng))
    if measures and rng.random() < 0.15:
        filters.append(
            {'member': measures[0], 'operator': rng.choice(('gt', 'lt', 'gte')), 'values': [rng.randint(0, 30)]}
        )
    if filters:
        query['filters'] = filters
    if rng.random() < 0.15:
        query['segments'] = ['TrackedEvents.knownUsers']
    _add_order_and_limit(rng, query)
    return query


def _add_order_and_limit(rng: random.Random, query: dict) -> None:
    selectable = query.get('measures', []) + query.get('dimensions', [])
    selectable += [td['dimension'] for td in query.get('timeDimensions', []) if td.get('granularity')]
    if selectable and rng.random() < 0.5:
        picks = rng.sample(selectable, min(len(selectable), rng.randint(1, 2)))
        pairs = [[m, rng.choice(('asc', 'desc'))] for m in picks]
        query['order'] = dict(pairs) if rng.random() < 0.5 else pairs
    if rng.random() < 0.4:
        query['limit'] = rng.randint(1, 40)
    if rng.random() < 0.1:
        query['total'] = True


def _check_order(data: list[dict], expected: list[dict], order, measures, limit) -> None:
    full = reference.sort_rows(expected, order, measures)
    got = reference.order_projection(data, order)
    assert got == reference.order_projection(full, order)[: len(data)], 'rows are not in the requested order'
    assert len(data) == min(len(expected), limit)


def _canonical(rows: list[dict]) -> Counter:
    return Counter(tuple(sorted(row.items(), key=lambda kv: kv[0])) for row in rows)


@pytest.mark.parametrize('case', range(CASES))
def test_random_query_matches_reference(case, engine, events):
    # Given: a random valid query for one project
    rng = random.Random(case * 7919 + 17)
    query = random_query(rng)
    project = rng.choice(PROJECTS)

    # When: it runs through the compiler and DuckDB
    body = load(query, project, engine, now=NOW, query_type='multi')

    # Then: the rows equal the independent computation (as a multiset, or as a correctly ordered prefix)
    result = body['results'][0]
    expected = reference.evaluate(events, project, query)
    limit = query.get('limit', 10000)
    order = reference.effective_order(query)
    data = result['data']
    if len(expected) <= limit:
        assert _canonical(data) == _canonical(expected), query
    else:
        assert _canonical(data) <= _canonical(expected), query
    if order:
        _check_order(data, expected, order, query.get('measures', []), limit)
    if query.get('total'):
        assert result['total'] == len(expected)
    assert result['query']['limit'] == limit == result['query']['rowLimit']


def test_projects_are_isolated(engine, events):
    # Given: events of two projects in the same lake
    counts = Counter(e['project_id'] for e in events)

    # When: each project counts its events
    got = {
        p: load({'measures': ['TrackedEvents.count']}, p, engine, now=NOW)['data'][0]['TrackedEvents.count']
        for p in PROJECTS
    }

    # Then: each sees only its own rows, and an unknown project sees none
    assert got == {p: str(counts[p]) for p in PROJECTS}
    assert load({'measures': ['TrackedEvents.count']}, "7' OR '1'='1", engine, now=NOW)['data'] == [
        {'TrackedEvents.count': '0'}
    ]
