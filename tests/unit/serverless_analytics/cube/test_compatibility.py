"""Compatibility suite: spec §9 checklist and the seed document's two examples, asserting whole JSON bodies."""

import pytest

from serverless_analytics.cube import dry_run, load, meta
from serverless_analytics.models.errors import CubeLimitError, CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW

REFRESHED = '2024-05-15T13:03:00.000Z'
COUNT_ANNOTATION = {
    'title': 'Tracked Events Count',
    'shortTitle': 'Count',
    'type': 'number',
    'drillMembers': ['TrackedEvents.eventId', 'TrackedEvents.pageTitle'],
    'drillMembersGrouped': {'measures': [], 'dimensions': ['TrackedEvents.eventId', 'TrackedEvents.pageTitle']},
}
SESSIONS_COUNT_ANNOTATION = {
    'title': 'Sessions Count',
    'shortTitle': 'Count',
    'type': 'number',
    'drillMembers': ['Sessions.sessionID', 'Sessions.startAt', 'Sessions.userId'],
    'drillMembersGrouped': {
        'measures': [],
        'dimensions': ['Sessions.sessionID', 'Sessions.startAt', 'Sessions.userId'],
    },
}
START_AT = {'title': 'Sessions Start at', 'shortTitle': 'Start at', 'type': 'time'}


def _regular(echo: dict, data: list, annotation: dict) -> dict:
    """Cube's multi-form body of a regular query: one result, the echoed query as the pivot query."""
    return {
        'queryType': 'regularQuery',
        'results': [_result(echo, data, annotation)],
        'pivotQuery': echo,
        'slowQuery': False,
    }


def _result(query: dict, data: list, annotation: dict, total=None) -> dict:
    return {
        'query': query,
        'data': data,
        'lastRefreshTime': REFRESHED,
        'annotation': annotation,
        'dataSource': 'default',
        'dbType': 'duckdb',
        'extDbType': 'cubestore',
        'external': False,
        'slowQuery': False,
        'total': total,
    }


def test_checklist_1_count_multi(engine):
    # Given / When: the smallest load with queryType multi
    body = load({'measures': ['TrackedEvents.count']}, '1', engine, now=NOW, query_type='multi')

    # Then: the multi wrapper with the normalised echo, annotation and the count as a string
    query = {
        'measures': ['TrackedEvents.count'],
        'timezone': 'UTC',
        'order': [],
        'filters': [],
        'dimensions': [],
        'timeDimensions': [],
        'limit': 10000,
        'rowLimit': 10000,
        'queryType': 'regularQuery',
    }
    annotation = {
        'measures': {'TrackedEvents.count': COUNT_ANNOTATION},
        'dimensions': {},
        'segments': {},
        'timeDimensions': {},
    }
    assert body == _regular(query, [{'TrackedEvents.count': '6'}], annotation)


def test_checklist_2_legacy_single_form(engine):
    # Given / When: the same load without queryType
    body = load('{"measures":["TrackedEvents.count"]}', '1', engine, now=NOW)

    # Then: the bare result object (the query string form is parsed as JSON)
    assert body['data'] == [{'TrackedEvents.count': '6'}]
    assert body['query']['queryType'] == 'regularQuery'
    assert 'results' not in body


def test_checklist_3_last_week_by_week(engine):
    # Given: sessions by Monday weeks over "last week"
    query = {
        'measures': ['Sessions.count'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'week', 'dateRange': 'last week'}],
    }

    # When
    body = load(query, '1', engine, now=NOW, query_type='multi')

    # Then: Monday buckets under both keys and the resolved range in the echo
    echo = {
        'measures': ['Sessions.count'],
        'timeDimensions': [
            {
                'dimension': 'Sessions.startAt',
                'granularity': 'week',
                'dateRange': ['2024-05-06T00:00:00.000', '2024-05-12T23:59:59.999'],
            }
        ],
        'timezone': 'UTC',
        'order': [],
        'filters': [],
        'dimensions': [],
        'limit': 10000,
        'rowLimit': 10000,
        'queryType': 'regularQuery',
    }
    row = {
        'Sessions.startAt.week': '2024-05-06T00:00:00.000',
        'Sessions.startAt': '2024-05-06T00:00:00.000',
        'Sessions.count': '2',
    }
    annotation = {
        'measures': {'Sessions.count': SESSIONS_COUNT_ANNOTATION},
        'dimensions': {},
        'segments': {},
        'timeDimensions': {
            # Cube 1.7 describes the bucket's granularity; the deprecated bare key has none
            'Sessions.startAt.week': {
                **START_AT,
                'granularity': {'name': 'week', 'title': 'week', 'interval': '1 week'},
            },
            'Sessions.startAt': START_AT,
        },
    }
    assert body == _regular(echo, [row], annotation)


@pytest.mark.parametrize(
    ('date_range', 'expected'),
    [
        (['2024-01-01', '2024-01-31'], ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999']),
        (['2024-01-05'], ['2024-01-05T00:00:00.000', '2024-01-05T23:59:59.999']),
    ],
)
def test_checklist_4_padded_date_ranges(date_range, expected):
    body = dry_run(
        {
            'measures': ['TrackedEvents.count'],
            'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': date_range}],
        },
        now=NOW,
    )
    assert body['normalizedQueries'][0]['timeDimensions'][0]['dateRange'] == expected


def test_checklist_5_values_stringified_and_member_renamed():
    body = dry_run(
        {
            'measures': ['TrackedEvents.count'],
            'filters': [{'dimension': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': [10.5, True, None]}],
        },
        now=NOW,
    )
    assert body['normalizedQueries'][0]['filters'] == [
        {'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': ['10.5', 'true', None]}
    ]


@pytest.mark.parametrize(
    ('query', 'message'),
    [
        (
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.pageUrl', 'operator': 'foo', 'values': ['a']}],
            },
            # Cube 1.7's Joi schema refuses a filter with an unknown or missing operator before its own checks
            'Invalid query format: "filters[0]" does not match any of the allowed types',
        ),
        (
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.pageUrl', 'operator': 'equals', 'values': []}],
            },
            'Values required for filter: {"member":"TrackedEvents.pageUrl","operator":"equals","values":[]}',
        ),
        (
            {'measures': ['TrackedEvents.count'], 'filters': [{'member': 'TrackedEvents.pageUrl', 'values': ['a']}]},
            'Invalid query format: "filters[0]" does not match any of the allowed types',
        ),
        (
            {},
            'Query should contain either measures, dimensions or timeDimensions with granularities in order to '
            'be valid',
        ),
        ({'measures': ['TrackedEvents.count'], 'foo': 1}, 'Invalid query format: "foo" is not allowed'),
        (
            {'measures': ['count']},
            'Invalid query format: "measures[0]" with value "count" fails to match the required pattern: '
            '/^[a-zA-Z0-9_]+\\.[a-zA-Z0-9_]+$/',
        ),
        (
            {'dimensions': ['TrackedEvents.utcTime.fortnight']},
            'Granularity "fortnight" does not exist in dimension TrackedEvents.utcTime',
        ),
        (
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': 'blah'}],
            },
            "Can't parse date: 'blah'",
        ),
        ({'measures': ['TrackedEvents.nope']}, "'nope' not found for path 'TrackedEvents.nope'"),
        ({'measures': ['Nope.count']}, "Cube 'Nope' not found for path 'Nope.count'"),
    ],
)
def test_checklist_6_user_errors(query, message):
    with pytest.raises(CubeQueryError) as raised:
        dry_run(query, now=NOW)
    assert type(raised.value) is CubeQueryError
    assert raised.value.message == message


def test_checklist_6_limit_exceeded_is_its_own_error():
    with pytest.raises(CubeLimitError) as raised:
        dry_run({'measures': ['TrackedEvents.count'], 'limit': 50001}, now=NOW)
    assert raised.value.message == 'The query limit has been exceeded.'


@pytest.mark.parametrize(
    ('query', 'order'),
    [
        (
            {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.pageUrl']},
            {'TrackedEvents.count': 'desc'},
        ),
        ({'dimensions': ['TrackedEvents.pageUrl', 'TrackedEvents.event']}, {'TrackedEvents.pageUrl': 'asc'}),
        (
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['TrackedEvents.pageUrl'],
                'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day'}],
            },
            {'TrackedEvents.derivedTstamp': 'asc'},
        ),
        ({'measures': ['TrackedEvents.count']}, {}),
        (
            {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.pageUrl'], 'order': []},
            {'TrackedEvents.count': 'desc'},
        ),
        (
            {
                'measures': ['TrackedEvents.count'],
                'order': {'TrackedEvents.pageUrl': 'asc', 'TrackedEvents.count': 'desc'},
            },
            {'TrackedEvents.pageUrl': 'asc', 'TrackedEvents.count': 'desc'},
        ),
    ],
)
def test_checklist_8_default_order_in_dry_run(query, order):
    assert dry_run(query, now=NOW)['queryOrder'] == [order]


def test_dry_run_whole_body():
    body = dry_run({'measures': ['TrackedEvents.count'], 'order': [['TrackedEvents.count', 'desc']]}, now=NOW)
    normalized = {
        'measures': ['TrackedEvents.count'],
        'order': [{'id': 'TrackedEvents.count', 'desc': True}],
        'timezone': 'UTC',
        'filters': [],
        'dimensions': [],
        'timeDimensions': [],
        'limit': 10000,
        'rowLimit': 10000,
        'queryType': 'regularQuery',
    }
    assert body == {
        'queryType': 'regularQuery',
        'normalizedQueries': [normalized],
        'queryOrder': [{'TrackedEvents.count': 'desc'}],
        'transformedQueries': [None],
        'pivotQuery': normalized,
    }


def test_checklist_9_meta():
    body = meta()
    cubes = {cube['name']: cube for cube in body['cubes']}
    assert set(cubes) == {'TrackedEvents', 'Sessions', 'ReturningUsers'}
    sessions = cubes['Sessions']
    dimension_names = [d['name'] for d in sessions['dimensions']]
    assert 'Sessions.sessionID' not in dimension_names  # hidden primary key
    assert 'TrackedEvents.eventId' not in [d['name'] for d in cubes['TrackedEvents']['dimensions']]
    start_at = next(d for d in sessions['dimensions'] if d['name'] == 'Sessions.startAt')
    assert start_at == {
        'name': 'Sessions.startAt',
        'title': 'Sessions Start at',
        'shortTitle': 'Start at',
        'type': 'time',
        'suggestFilterValues': True,
        'isVisible': True,
        'public': True,
        'primaryKey': False,
    }
    repeat = next(m for m in sessions['measures'] if m['name'] == 'Sessions.repeatPercent')
    assert repeat == {
        'name': 'Sessions.repeatPercent',
        'title': 'Sessions Repeat Percent',
        'shortTitle': 'Repeat Percent',
        'description': 'Percent of Repeat Sessions',
        'format': 'percent',
        'cumulativeTotal': False,
        'cumulative': False,
        'type': 'number',
        'aggType': 'number',
        'drillMembers': [],
        'drillMembersGrouped': {'measures': [], 'dimensions': []},
        'isVisible': True,
        'public': True,
    }
    types = {m['type'] for c in body['cubes'] for m in c['measures'] + c['dimensions']}
    assert types <= {'number', 'string', 'time', 'boolean'}
    assert cubes['TrackedEvents']['segments'][0] == {
        'name': 'TrackedEvents.knownUsers',
        'title': 'Tracked Events Known Users',
        'shortTitle': 'Known Users',
        'isVisible': True,
        'public': True,
    }
    for member in ('derivedTstamp', 'utcTime', 'docPath', 'pageUrlpath', 'pageUrlhosts', 'uniqueUsersCount'):
        assert any(
            m['name'] == f'TrackedEvents.{member}'
            for m in cubes['TrackedEvents']['dimensions'] + cubes['TrackedEvents']['measures']
        )


def test_seed_example_tracked_events(engine):
    # Given: the seed document's TrackedEvents example ("This week" is 2024-05-13 .. 2024-05-19)
    query = {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': 'This week'}],
        'order': [['TrackedEvents.count', 'desc'], ['TrackedEvents.docPath', 'desc'], ['TrackedEvents.utcTime', 'asc']],
        'dimensions': ['TrackedEvents.docPath'],
        'limit': 23,
    }

    # When
    body = load(query, '1', engine, now=NOW, query_type='multi')

    # Then: /docs twice and /pricing once this week; utcTime (no granularity) is not a column, so not an order key
    echo = {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [
            {'dimension': 'TrackedEvents.utcTime', 'dateRange': ['2024-05-13T00:00:00.000', '2024-05-19T23:59:59.999']}
        ],
        'order': [
            {'id': 'TrackedEvents.count', 'desc': True},
            {'id': 'TrackedEvents.docPath', 'desc': True},
            {'id': 'TrackedEvents.utcTime', 'desc': False},
        ],
        'dimensions': ['TrackedEvents.docPath'],
        'limit': 23,
        'timezone': 'UTC',
        'filters': [],
        'rowLimit': 23,
        'queryType': 'regularQuery',
    }
    data = [
        {'TrackedEvents.docPath': '/docs', 'TrackedEvents.count': '2'},
        {'TrackedEvents.docPath': '/pricing', 'TrackedEvents.count': '1'},
    ]
    annotation = {
        'measures': {'TrackedEvents.count': COUNT_ANNOTATION},
        'dimensions': {
            'TrackedEvents.docPath': {'title': 'Tracked Events Doc Path', 'shortTitle': 'Doc Path', 'type': 'string'}
        },
        'segments': {},
        'timeDimensions': {},
    }
    assert body == _regular(echo, data, annotation)


def test_seed_example_sessions(engine):
    # Given: the seed document's Sessions example
    query = {
        'measures': ['Sessions.count'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'day'}],
        'order': {'Sessions.startAt': 'asc'},
        'limit': 100,
    }

    # When
    body = load(query, '1', engine, now=NOW, query_type='multi')

    # Then: one session per day, ascending, with both time keys
    echo = {
        'measures': ['Sessions.count'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'day'}],
        'order': [{'id': 'Sessions.startAt', 'desc': False}],
        'limit': 100,
        'timezone': 'UTC',
        'filters': [],
        'dimensions': [],
        'rowLimit': 100,
        'queryType': 'regularQuery',
    }
    days = {'2024-05-06': '1', '2024-05-08': '1', '2024-05-13': '1', '2024-05-14': '1', '2024-05-15': '1'}
    data = [
        {'Sessions.startAt.day': f'{d}T00:00:00.000', 'Sessions.startAt': f'{d}T00:00:00.000', 'Sessions.count': c}
        for d, c in days.items()
    ]
    annotation = {
        'measures': {'Sessions.count': SESSIONS_COUNT_ANNOTATION},
        'dimensions': {},
        'segments': {},
        'timeDimensions': {
            'Sessions.startAt.day': {**START_AT, 'granularity': {'name': 'day', 'title': 'day', 'interval': '1 day'}},
            'Sessions.startAt': START_AT,
        },
    }
    assert body == _regular(echo, data, annotation)


def test_gitlab_dashboard_queries_answer_what_the_rows_hold(engine):
    # The built-in visualisations' queries (spec §6.5).
    base = {'limit': 100, 'timezone': 'UTC', 'filters': [], 'dimensions': [], 'timeDimensions': []}
    queries = [
        {
            **base,
            'measures': ['TrackedEvents.uniqueUsersCount'],
            'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day'}],
        },
        {
            **base,
            'measures': ['TrackedEvents.pageViewsCount'],
            'dimensions': ['TrackedEvents.pageUrlpath', 'TrackedEvents.pageUrl'],
        },
        {**base, 'measures': ['Sessions.count'], 'dimensions': ['Sessions.agentName', 'Sessions.agentVersion']},
        {**base, 'measures': ['Sessions.averageDurationMinutes', 'Sessions.averagePerUser', 'Sessions.repeatPercent']},
        {**base, 'measures': ['ReturningUsers.allSessionsCount', 'ReturningUsers.returningUserPercentage']},
    ]
    results = [load(q, '1', engine, now=NOW, query_type='multi')['results'][0]['data'] for q in queries]
    # Counted by hand from conftest.ROWS (project 1): one user on each day with events
    days = ['2024-05-06', '2024-05-08', '2024-05-13', '2024-05-14', '2024-05-15']
    assert results[0] == [
        {
            'TrackedEvents.derivedTstamp.day': f'{day}T00:00:00.000',
            'TrackedEvents.derivedTstamp': f'{day}T00:00:00.000',
            'TrackedEvents.uniqueUsersCount': '1',
        }
        for day in days
    ]
    # four page views of /docs, one of /pricing (the /pricing user_action is not a page view)
    assert results[1] == [
        {'TrackedEvents.pageUrlpath': path, 'TrackedEvents.pageUrl': f'https://example.com{path}', **count}
        for path, count in [
            ('/docs', {'TrackedEvents.pageViewsCount': '4'}),
            ('/pricing', {'TrackedEvents.pageViewsCount': '1'}),
        ]
    ]
    # sessions s1, s3 in Chrome, s2, s5 in Firefox, s4 without a browser; no versions in the rows. Most
    # sessions first; Cube leaves the order of the tied Chrome and Firefox rows open.
    expected = [
        {'Sessions.agentName': agent, 'Sessions.agentVersion': None, 'Sessions.count': count}
        for agent, count in [('Chrome', '2'), ('Firefox', '2'), (None, '1')]
    ]
    assert sorted(results[2], key=repr) == sorted(expected, key=repr)
    assert [row['Sessions.count'] for row in results[2]] == ['2', '2', '1']
    assert results[3] == [
        {
            'Sessions.averageDurationMinutes': '1',
            'Sessions.averagePerUser': '1.6666666666666667',
            'Sessions.repeatPercent': '40',
        }
    ]
    assert results[4] == [
        {'ReturningUsers.allSessionsCount': '4', 'ReturningUsers.returningUserPercentage': '66.66666666666667'}
    ]


def test_compare_date_range(engine):
    query = {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [
            {
                'dimension': 'TrackedEvents.derivedTstamp',
                'compareDateRange': ['this week', ['2024-05-06', '2024-05-12']],
            }
        ],
    }
    body = load(query, '1', engine, now=NOW, query_type='multi')
    assert body['queryType'] == 'compareDateRangeQuery'
    assert [r['data'] for r in body['results']] == [
        [{'TrackedEvents.count': '3', 'compareDateRange': '2024-05-13T00:00:00.000 - 2024-05-19T23:59:59.999'}],
        [{'TrackedEvents.count': '3', 'compareDateRange': '2024-05-06T00:00:00.000 - 2024-05-12T23:59:59.999'}],
    ]
    assert body['pivotQuery']['dimensions'] == ['compareDateRange']
    with pytest.raises(CubeQueryError, match="'compareDateRangeQuery' query type is not supported by the client"):
        load(query, '1', engine, now=NOW)


def test_total_and_offset(engine):
    body = load(
        {'dimensions': ['TrackedEvents.pageUrlpath'], 'total': True, 'limit': 1, 'offset': 1},
        '1',
        engine,
        now=NOW,
        query_type='multi',
    )
    assert body['results'][0]['total'] == 2
    assert body['results'][0]['data'] == [{'TrackedEvents.pageUrlpath': '/pricing'}]


def test_compact_response_format(engine):
    body = load(
        {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.agentName'], 'responseFormat': 'compact'},
        '1',
        engine,
        now=NOW,
    )
    assert body['data'] == {
        'members': ['TrackedEvents.agentName', 'TrackedEvents.count'],
        'dataset': [['Chrome', '3'], ['Firefox', '2'], [None, '1']],
    }
