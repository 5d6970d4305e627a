"""The seeded queries both Cube and the product answer: every member of every cube, every granularity, absolute and
relative date ranges in several time zones and pinned nows, every filter operator, and/or, measure filters,
segments, orders, limit/offset/total, ungrouped, compareDateRange, blending, response formats and invalid queries.

Each `Case` has a stable id (its group and number), so a failure names a query that is the same on every run."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from serverless_analytics.cube.datamodel import MODEL_DIR

SEED = 15
GRANULARITIES = ('second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year')
TIMEZONES = ('UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata')
TIMEZONE_VARIANTS = ('utc', 'europe/berlin', 'america/los_angeles', 'ASIA/KOLKATA', 'Etc/UTC', 'America/New_York')
# Pinned nows (UTC): a Monday morning at the end of the data, the EU and US spring DST days, New Year's night (still
# 2023 in Los Angeles) and the leap day evening (already March 1 in Kolkata).
NOWS = (
    '2024-04-08T10:15:30.250Z',
    '2024-03-31T01:30:00.000Z',
    '2024-03-10T09:45:00.000Z',
    '2024-01-01T03:00:00.000Z',
    '2024-02-29T18:45:00.000Z',
)
RELATIVE_RANGES = (
    'today',
    'yesterday',
    'tomorrow',
    'this week',
    'this month',
    'this quarter',
    'this year',
    'last week',
    'last month',
    'last quarter',
    'last year',
    'next week',
    'next month',
    'Last 7 days',
    'last 30 days',
    'last 2 weeks',
    'last 3 months',
    'last 6 hours',
    'last 90 minutes',
    'next 2 days',
    'last 2 quarters',
    'from 3 days ago to now',
    'from 10 days ago to now',
    'from 2 weeks ago to 1 week ago',
    'from now to 2 days from now',
    'from 3 days ago',
    'last monday',
    'next friday',
    'this hour',
    '3 days ago',
    'last 24 hours',
    'from yesterday to today',
    'from 2024-03-01 to 2024-03-10',
    'from March 1, 2024 to March 10, 2024',
    'last 1 year',
    'This Week',
    'LAST MONTH',
)
ABSOLUTE_RANGES: tuple[Any, ...] = (
    ['2024-01-01', '2024-01-31'],
    ['2023-12-31', '2024-01-01'],
    ['2024-03-10', '2024-03-10'],
    ['2024-03-31', '2024-04-01'],
    ['2024-03-30T22:00:00', '2024-03-31T04:00:00'],
    ['2024-03-31T00:00:00Z', '2024-03-31T23:59:59Z'],
    ['2024-03-31T02:30:00.000+02:00', '2024-04-01T00:00:00.000+02:00'],
    ['2024-02-29', '2024-03-01'],
    ['2023-10-28', '2023-11-06'],
    ['2024-02-01T00:00:00.000', '2024-02-14T23:59:59.999'],
    ['2024-04-01'],
    '2024-03-31',
    ['2024-02-10', '2024-02-01'],
    ['2020-01-01', '2030-12-31'],
)
LIKE_FRAGMENTS = ('docs', 'DOCS', 'Doc', '_', '%', "'", '\\', 'a_b', '100%', 'back\\', 'e', '/', '')
STRING_OPERATORS = (
    'equals',
    'notEquals',
    'contains',
    'notContains',
    'startsWith',
    'notStartsWith',
    'endsWith',
    'notEndsWith',
    'in',
    'notIn',
    'set',
    'notSet',
    'gt',
    'gte',
    'lt',
    'lte',
)
NUMBER_OPERATORS = ('equals', 'notEquals', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet', 'in', 'notIn')
DATE_OPERATORS = (
    'inDateRange',
    'notInDateRange',
    'onTheDate',
    'beforeDate',
    'beforeOrOnDate',
    'afterDate',
    'afterOrOnDate',
)
# Values seen in the generated lake, for filters that match something.
STRING_VALUES = {
    'TrackedEvents.eventName': ('page_view', 'link_click', 'signup', 'Sign In', 'purchase'),
    'TrackedEvents.event': ('page_view', 'auth', 'error', 'feature'),
    'TrackedEvents.eventType': ('page_view', 'trading'),
    'TrackedEvents.pageUrlpath': ('/docs', '/a_b', '/100%', "/it's", '/back\\slash', '/Docs/API'),
    'TrackedEvents.docPath': ('/docs/install', '/pricing', '/'),
    'TrackedEvents.pageTitle': ('Home', 'Docs', 'home page'),
    'TrackedEvents.agentName': ('Chrome', 'Firefox', 'Safari'),
    'TrackedEvents.brFamily': ('Edge', 'Chrome'),
    'TrackedEvents.browserLanguage': ('en-US', 'de-DE', 'pt_BR', 'fr'),
    'TrackedEvents.documentLanguage': ('ja-JP', 'en-GB'),
    'TrackedEvents.viewportSize': ('1280x720', '375x812'),
    'TrackedEvents.osVersionMajor': ('10', '17', '14'),
    'TrackedEvents.pageUrlhosts': ('example.com', 'docs.example.com'),
    'TrackedEvents.userId': ('user-1-01', 'user-1-07', 'user-1-33'),
    'TrackedEvents.elementId': ('signup-button', 'footer_link'),
    'TrackedEvents.priority': ('low', 'critical'),
    'TrackedEvents.tenantId': ('acme', 'globex'),
    'TrackedEvents.customEventProps': ('{"viewport_size": "1280x720"}',),
    'Sessions.agentName': ('Chrome', 'Safari'),
    'Sessions.isFirst': ('true', 'false'),
    'Sessions.pageUrlpath': ('/docs', '/a_b', '/100%'),
    'Sessions.browserLanguage': ('en-US', 'pt_BR'),
    'Sessions.userId': ('user-1-03', 'user-1-12'),
}
NUMBER_VALUES = {
    'TrackedEvents.latencyMs': ('100', '750', '1499', '12.5'),
    'Sessions.durationMinutes': ('0', '10', '30.5', '45'),
    'Sessions.numberEvents': ('1', '3', '6', '12'),
    'ReturningUsers.sessionsCount': ('1', '5', '12'),
}
MEASURE_VALUES = ('0', '1', '5', '20', '100', '2.5')


@dataclass(frozen=True)
class Case:
    id: str
    query: Any
    now: str

    @property
    def group(self) -> str:
        return self.id.rsplit('-', 1)[0]


@dataclass(frozen=True)
class Members:
    """The product model's members, read from its YAML (visible ones; the hidden primary keys apart)."""

    cube: str
    measures: tuple[str, ...]
    dimensions: tuple[str, ...]
    time_dimensions: tuple[str, ...]
    segments: tuple[str, ...]
    hidden: tuple[str, ...]
    types: dict[str, str]


def read_members() -> list[Members]:
    cubes = []
    for path in sorted(MODEL_DIR.glob('*.yml')):
        for cube in yaml.safe_load(path.read_text()).get('cubes', []):
            name = cube['name']

            def visible(member: dict) -> bool:
                default = not member.get('primary_key', False)
                return bool(member.get('public', member.get('shown', default)))

            dims = cube.get('dimensions', [])
            cubes.append(
                Members(
                    cube=name,
                    measures=tuple(f'{name}.{m["name"]}' for m in cube.get('measures', []) if visible(m)),
                    dimensions=tuple(f'{name}.{d["name"]}' for d in dims if visible(d) and d['type'] != 'time'),
                    time_dimensions=tuple(f'{name}.{d["name"]}' for d in dims if visible(d) and d['type'] == 'time'),
                    segments=tuple(f'{name}.{s["name"]}' for s in cube.get('segments', []) if visible(s)),
                    hidden=tuple(f'{name}.{m["name"]}' for m in [*cube.get('measures', []), *dims] if not visible(m)),
                    types={f'{name}.{d["name"]}': d['type'] for d in dims},
                )
            )
    return cubes


class Generator:
    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.cubes = {c.cube: c for c in read_members()}
        self.cases: list[Case] = []
        self._numbers: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------------------------------
    def add(self, group: str, query: Any, now: str | None = None) -> None:
        number = self._numbers.get(group, 0)
        self._numbers[group] = number + 1
        self.cases.append(Case(f'{group}-{number:03d}', query, now or self.rng.choice(NOWS)))

    def pick(self, options):
        return self.rng.choice(options)

    def tz(self, variants: bool = False) -> str:
        return self.pick(TIMEZONES + TIMEZONE_VARIANTS if variants else TIMEZONES)

    def with_tz(self, query: dict, variants: bool = False) -> dict:
        zone = self.tz(variants)
        return query if zone == 'UTC' and self.rng.random() < 0.5 else {**query, 'timezone': zone}

    def date_range(self):
        return self.pick(RELATIVE_RANGES) if self.rng.random() < 0.5 else self.pick(ABSOLUTE_RANGES)

    def string_value(self, member: str) -> str:
        return self.pick(STRING_VALUES.get(member, ('x',)))

    def string_dimensions(self, cube: str) -> list[str]:
        """The cube's visible string dimensions (all its visible dimensions if it has none)."""
        members = self.cubes[cube]
        return [d for d in members.dimensions if members.types[d] == 'string'] or list(members.dimensions)

    # -- groups ----------------------------------------------------------------------------------------------------
    def measures_alone(self) -> None:
        for members in self.cubes.values():
            for measure in members.measures:
                self.add('measure', {'measures': [measure]})
            self.add('measure', {'measures': list(members.measures)})

    def dimensions(self) -> None:
        for members in self.cubes.values():
            for index, dimension in enumerate(members.dimensions):
                measure = members.measures[index % len(members.measures)]
                self.add('dimension', {'measures': [measure], 'dimensions': [dimension]})
            for dimension in members.dimensions[::4]:  # dimensions alone: Cube orders them ascending
                self.add('dimension-alone', {'dimensions': [dimension]})

    def granularities(self) -> None:
        for members in self.cubes.values():
            for dimension in members.time_dimensions:
                for granularity in GRANULARITIES:
                    time_dimension: dict[str, Any] = {'dimension': dimension, 'granularity': granularity}
                    if granularity in ('second', 'minute', 'hour') or self.rng.random() < 0.6:
                        time_dimension['dateRange'] = self.pick(ABSOLUTE_RANGES[:10])
                    query = {'measures': [self.pick(members.measures)], 'timeDimensions': [time_dimension]}
                    self.add('granularity', self.with_tz(query))
                # the time dimension itself, raw and with a granularity, in `dimensions`
                # latest first: the first rows are far from a DST change (see dst_times for those)
                self.add(
                    'raw-time', self.with_tz({'dimensions': [dimension], 'limit': 50, 'order': {dimension: 'desc'}})
                )
                for granularity in ('day', 'quarter'):
                    self.add('dimension-granularity', self.with_tz({'dimensions': [f'{dimension}.{granularity}']}))

    def relative_ranges(self) -> None:
        for index, phrase in enumerate(RELATIVE_RANGES):
            for now in self.rng.sample(NOWS, 2 if index % 2 == 0 else 1):
                granularity = self.pick(('hour', 'day', 'week', 'month'))
                query = {
                    'measures': ['TrackedEvents.count'],
                    'timeDimensions': [
                        {'dimension': 'TrackedEvents.utcTime', 'granularity': granularity, 'dateRange': phrase}
                    ],
                }
                self.add('relative-range', self.with_tz(query, variants=True), now)

    def absolute_ranges(self) -> None:
        for date_range in ABSOLUTE_RANGES:
            for zone in self.rng.sample(TIMEZONES, 2):
                query = {
                    'measures': ['TrackedEvents.count', 'TrackedEvents.uniqueUsersCount'],
                    'timeDimensions': [
                        {'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day', 'dateRange': date_range}
                    ],
                    'timezone': zone,
                }
                self.add('absolute-range', query)
            self.add(
                'range-no-granularity',
                {
                    'measures': ['TrackedEvents.count'],
                    'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': date_range}],
                },
            )

    def timezones(self) -> None:
        for zone in TIMEZONES + TIMEZONE_VARIANTS:
            query = {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {
                        'dimension': 'TrackedEvents.utcTime',
                        'granularity': 'hour',
                        'dateRange': ['2024-03-30', '2024-04-01'],
                    }
                ],
                'timezone': zone,
            }
            self.add('timezone', query)
            self.add(
                'timezone-raw',
                {
                    'dimensions': ['TrackedEvents.utcTime'],
                    'timezone': zone,
                    'limit': 20,
                    'order': [['TrackedEvents.utcTime', 'desc']],
                },
            )

    def dst_times(self) -> None:
        """Wall times within hours of a DST change: skipped (spring), repeated (autumn), and just after either."""
        count = ['TrackedEvents.count']
        utc_time = 'TrackedEvents.utcTime'
        for zone, date_range, granularity in (
            ('America/Los_Angeles', ['2023-11-05T00:00:00', '2023-11-05T03:00:00'], 'minute'),
            ('America/Los_Angeles', ['2024-03-10T00:00:00', '2024-03-10T05:00:00'], 'hour'),
            ('America/Los_Angeles', ['2024-03-10T03:00:00', '2024-03-10T12:00:00'], 'hour'),
            ('Europe/Berlin', ['2024-03-31T02:30:00', '2024-03-31T03:30:00'], None),
            ('Europe/Berlin', ['2024-03-31T00:00:00', '2024-03-31T04:00:00'], 'hour'),
            ('Europe/Berlin', ['2023-10-29T02:00:00', '2023-10-29T02:59:59'], None),
            ('Europe/Berlin', ['2023-10-29T01:00:00', '2023-10-29T04:00:00'], 'minute'),
        ):
            time_dimension: dict[str, Any] = {'dimension': utc_time, 'dateRange': date_range}
            if granularity:
                time_dimension['granularity'] = granularity
            self.add('dst', {'measures': count, 'timeDimensions': [time_dimension], 'timezone': zone})
        for zone, operator, values in (
            ('Europe/Berlin', 'inDateRange', ['2024-03-31T00:00:00', '2024-03-31T04:00:00']),
            ('Europe/Berlin', 'afterDate', ['2024-03-31T02:30:00']),
            ('America/Los_Angeles', 'beforeDate', ['2023-11-05T03:00:00']),
            ('America/Los_Angeles', 'notInDateRange', ['2024-03-10T00:00:00', '2024-03-10T05:00:00']),
        ):
            query = {
                'measures': count,
                'filters': [{'member': utc_time, 'operator': operator, 'values': values}],
                'timeDimensions': [
                    {'dimension': utc_time, 'granularity': 'day', 'dateRange': ['2023-10-01', '2024-04-09']}
                ],
                'timezone': zone,
            }
            self.add('dst', query)

    def string_filters(self) -> None:
        tracked = self.string_dimensions('TrackedEvents') + self.string_dimensions('Sessions')
        for operator in STRING_OPERATORS:
            for _ in range(4):
                member = self.pick([m for m in tracked if m in STRING_VALUES] if self.rng.random() < 0.8 else tracked)
                self.add('filter-string', self._filtered_query(member, operator, self._string_values(member, operator)))

    def _string_values(self, member: str, operator: str) -> list[Any] | None:
        if operator in ('set', 'notSet'):
            return None
        if operator in ('contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith'):
            if self.rng.random() < 0.5:
                return [self.pick(LIKE_FRAGMENTS) for _ in range(self.rng.randint(1, 2))]
            text = self.string_value(member)
            start = self.rng.randrange(len(text))
            return [text[start : start + self.rng.randint(1, 5)]]
        if operator in ('gt', 'gte', 'lt', 'lte'):
            return [self.string_value(member)]
        values: list[Any] = [self.string_value(member) for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.2:
            values.append(None)
        return values

    def _filtered_query(self, member: str, operator: str, values: list[Any] | None) -> dict:
        cube = member.split('.')[0]
        leaf: dict[str, Any] = {'member': member, 'operator': operator}
        if values is not None:
            leaf['values'] = values
        query: dict[str, Any] = {'measures': [f'{cube}.count'], 'filters': [leaf]}
        if self.rng.random() < 0.6:
            query['dimensions'] = [self.pick(self.string_dimensions(cube))]
        return self.with_tz(query)

    def number_and_boolean_filters(self) -> None:
        for member, values in NUMBER_VALUES.items():
            for operator in NUMBER_OPERATORS:
                chosen: list[str] | None = (
                    None if operator in ('set', 'notSet') else self.rng.sample(values, self.rng.randint(1, 2))
                )
                self.add('filter-number', self._filtered_query(member, operator, chosen))
        for member in ('TrackedEvents.isBot', 'TrackedEvents.offline'):
            for operator, words in (
                ('equals', ['true']),
                ('equals', ['false']),
                ('notEquals', ['true']),
                ('equals', ['1']),
                ('equals', ['yes']),
                ('set', None),
                ('notSet', None),
            ):
                self.add('filter-boolean', self._filtered_query(member, operator, words))

    def date_filters(self) -> None:
        time_members = [
            'TrackedEvents.utcTime',
            'TrackedEvents.derivedTstamp',
            'Sessions.startAt',
            'Sessions.endAt',
            'ReturningUsers.first_timestamp',
        ]
        date_values: tuple[Any, ...] = (
            ['2024-03-31'],
            ['2024-01-01'],
            ['2024-03-10T10:00:00'],
            ['2024-03-31T01:00:00Z'],
            ['2024-03-31T03:00:00.000+02:00'],
            ['last week'],
            ['yesterday'],
            ['last 2 weeks'],
            ['this month'],
            ['from 3 days ago to now'],
        )
        for operator in DATE_OPERATORS:
            for _ in range(6):
                member = self.pick(time_members)
                if operator in ('inDateRange', 'notInDateRange') and self.rng.random() < 0.6:
                    values = list(self.pick([r for r in ABSOLUTE_RANGES if isinstance(r, list) and len(r) == 2]))
                else:
                    values = list(self.pick(date_values))
                cube = member.split('.')[0]
                query: dict[str, Any] = {
                    'measures': [f'{cube}.count'],
                    'filters': [{'member': member, 'operator': operator, 'values': values}],
                }
                if self.rng.random() < 0.5:
                    query['timeDimensions'] = [{'dimension': member, 'granularity': 'day'}]
                self.add('filter-date', self.with_tz(query))
        # a date operator on a string dimension, a string operator on a time dimension
        self.add(
            'filter-date',
            {
                'measures': ['TrackedEvents.count'],
                'filters': [
                    {
                        'member': 'TrackedEvents.pageUrlpath',
                        'operator': 'inDateRange',
                        'values': ['2024-01-01', '2024-02-01'],
                    }
                ],
            },
        )
        self.add(
            'filter-date',
            {
                'measures': ['TrackedEvents.count'],
                'filters': [
                    {'member': 'TrackedEvents.utcTime', 'operator': 'equals', 'values': ['2024-03-31T01:30:00.000']}
                ],
            },
        )
        self.add(
            'filter-date',
            {'measures': ['TrackedEvents.count'], 'filters': [{'member': 'TrackedEvents.utcTime', 'operator': 'set'}]},
        )
        self.add(
            'filter-date',
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.utcTime', 'operator': 'gt', 'values': ['2024-03-01']}],
            },
        )

    def nested_filters(self) -> None:
        for _ in range(20):
            self.add(
                'filter-nested',
                self.with_tz(
                    {
                        'measures': ['TrackedEvents.count'],
                        'dimensions': ['TrackedEvents.eventName'],
                        'filters': [self._tree(3)],
                    }
                ),
            )
        self.add('filter-nested', {'measures': ['TrackedEvents.count'], 'filters': [{'or': []}]})
        self.add(
            'filter-nested',
            {
                'measures': ['TrackedEvents.count'],
                'filters': [
                    {
                        'and': [
                            {
                                'or': [
                                    {
                                        'and': [
                                            {
                                                'member': 'TrackedEvents.agentName',
                                                'operator': 'equals',
                                                'values': ['Chrome'],
                                            }
                                        ]
                                    }
                                ]
                            }
                        ]
                    }
                ],
            },
        )

    def _tree(self, depth: int) -> dict:
        if depth == 0 or self.rng.random() < 0.35:
            member = self.pick(list(STRING_VALUES)[:12])
            operator = self.pick(('equals', 'notEquals', 'contains', 'startsWith', 'set', 'notSet'))
            return {
                k: v
                for k, v in {
                    'member': member,
                    'operator': operator,
                    'values': self._string_values(member, operator),
                }.items()
                if v is not None
            }
        kind = self.pick(('and', 'or'))
        return {kind: [self._tree(depth - 1) for _ in range(self.rng.randint(1, 3))]}

    def measure_filters(self) -> None:
        for members in self.cubes.values():
            for measure in members.measures:
                operator = self.pick(('gt', 'gte', 'lt', 'lte', 'equals', 'notEquals', 'set', 'notSet'))
                leaf: dict[str, Any] = {'member': measure, 'operator': operator}
                if operator not in ('set', 'notSet'):
                    leaf['values'] = [self.pick(MEASURE_VALUES)]
                dimensions = self.string_dimensions(members.cube)
                query = {'measures': [measure], 'dimensions': [self.pick(dimensions)], 'filters': [leaf]}
                self.add('filter-measure', query)
        self.add(
            'filter-measure',
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['TrackedEvents.agentName'],
                'filters': [{'member': 'TrackedEvents.uniqueUsersCount', 'operator': 'gt', 'values': ['10']}],
            },
        )
        self.add(
            'filter-measure',
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['TrackedEvents.agentName'],
                'filters': [
                    {
                        'or': [
                            {'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['700']},
                            {'member': 'TrackedEvents.agentName', 'operator': 'equals', 'values': ['Edge']},
                        ]
                    }
                ],
            },
        )
        self.add(
            'filter-measure',
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['TrackedEvents.agentName'],
                'filters': [{'member': 'TrackedEvents.count', 'operator': 'measureFilter'}],
            },
        )

    def segments(self) -> None:
        for members in self.cubes.values():
            for segment in members.segments:
                self.add('segment', {'measures': [f'{members.cube}.count'], 'segments': [segment]})
                self.add(
                    'segment',
                    {
                        'measures': [f'{members.cube}.count'],
                        'dimensions': [self.pick(self.string_dimensions(members.cube))],
                        'segments': [segment],
                    },
                )
            if len(members.segments) > 1:
                self.add('segment', {'measures': [f'{members.cube}.count'], 'segments': list(members.segments)})

    def orders(self) -> None:
        base = {
            'measures': ['TrackedEvents.count', 'TrackedEvents.uniqueUsersCount'],
            'dimensions': ['TrackedEvents.agentName', 'TrackedEvents.deviceFamily'],
        }
        forms: list[Any] = [
            {'TrackedEvents.count': 'asc'},
            {'TrackedEvents.uniqueUsersCount': 'desc', 'TrackedEvents.agentName': 'asc'},
            [['TrackedEvents.agentName', 'desc'], ['TrackedEvents.deviceFamily', 'asc']],
            [['TrackedEvents.deviceFamily', 'asc'], ['TrackedEvents.count', 'desc']],
            {'TrackedEvents.osName': 'asc'},  # not selected
            [['TrackedEvents.osName', 'asc'], ['TrackedEvents.agentName', 'asc']],
            [],
            {},
        ]
        for order in forms:
            self.add('order', {**base, 'order': order})
            self.add('order', {**base, 'order': order, 'limit': 7})
        time_query = {
            'measures': ['TrackedEvents.count'],
            'dimensions': ['TrackedEvents.agentName'],
            'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'}],
        }
        for order in (
            {'TrackedEvents.utcTime': 'desc'},
            {'TrackedEvents.count': 'desc'},
            [['TrackedEvents.agentName', 'asc'], ['TrackedEvents.utcTime', 'asc']],
        ):
            self.add('order', {**time_query, 'order': order})
        # two granularities of one time dimension
        self.add(
            'order',
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'},
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'week'},
                ],
            },
        )
        self.add(
            'order',
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'week'},
                    {
                        'dimension': 'TrackedEvents.utcTime',
                        'granularity': 'month',
                        'dateRange': ['2024-01-01', '2024-03-31'],
                    },
                ],
            },
        )
        self.add(
            'order',
            {
                'measures': ['Sessions.count'],
                'dimensions': ['Sessions.agentName'],
                'order': {'Sessions.agentName': 'desc'},
            },
        )
        self.add('order', {'measures': ['TrackedEvents.count'], 'order': {'TrackedEvents.count': 'desc'}})

    def limits(self) -> None:
        base = {
            'measures': ['TrackedEvents.count'],
            'dimensions': ['TrackedEvents.userId'],
            'order': [['TrackedEvents.userId', 'asc']],
        }
        for limit, offset, total in (
            (5, None, True),
            (5, 3, True),
            (5, 3, False),
            (1, None, None),
            (0, None, True),
            (100, 40, True),
            (10000, None, True),
            (50000, None, None),
            (None, 10, True),
            (None, None, True),
            ('7', None, None),
            (3, '2', None),
            (5, 1000, True),
        ):
            query: dict[str, Any] = dict(base)
            for key, value in (('limit', limit), ('offset', offset), ('total', total)):
                if value is not None:
                    query[key] = value
            self.add('limit', query)
        self.add(
            'limit',
            {
                'measures': ['Sessions.count'],
                'dimensions': ['Sessions.osFamily'],
                'total': True,
                'limit': 2,
                'order': {'Sessions.osFamily': 'asc'},
            },
        )
        self.add('limit', {'measures': ['TrackedEvents.count'], 'total': True})
        self.add(
            'limit',
            {
                'dimensions': ['TrackedEvents.agentName'],
                'total': True,
                'limit': 2,
                'order': {'TrackedEvents.agentName': 'asc'},
            },
        )
        self.add(
            'limit',
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'week', 'dateRange': 'last month'}
                ],
                'total': True,
                'limit': 3,
            },
        )

    def ungrouped(self) -> None:
        queries: list[dict[str, Any]] = [
            {
                'dimensions': ['TrackedEvents.agentName', 'TrackedEvents.eventName'],
                'order': {'TrackedEvents.eventName': 'asc'},
                'limit': 20,
            },
            {
                'dimensions': ['TrackedEvents.agentName'],
                'measures': ['TrackedEvents.count'],
                'limit': 10,
                'order': {'TrackedEvents.agentName': 'asc'},
            },
            {
                'dimensions': ['TrackedEvents.agentName'],
                'measures': ['TrackedEvents.averageLatencyMs'],
                'limit': 10,
                'order': {'TrackedEvents.agentName': 'asc'},
            },
            {
                'measures': ['TrackedEvents.uniqueUsersCount'],
                'dimensions': ['TrackedEvents.userId'],
                'limit': 10,
                'order': {'TrackedEvents.userId': 'asc'},
            },
            {
                'dimensions': ['TrackedEvents.pageUrlpath'],
                'timeDimensions': [
                    {
                        'dimension': 'TrackedEvents.utcTime',
                        'granularity': 'day',
                        'dateRange': ['2024-03-31', '2024-03-31'],
                    }
                ],
                'order': {'TrackedEvents.utcTime': 'asc'},
            },
            {
                'dimensions': ['TrackedEvents.utcTime'],
                'filters': [{'member': 'TrackedEvents.eventName', 'operator': 'equals', 'values': ['signup']}],
                'limit': 15,
                'order': {'TrackedEvents.utcTime': 'desc'},
            },
            {
                'dimensions': ['Sessions.agentName'],
                'measures': ['Sessions.count'],
                'limit': 10,
                'order': {'Sessions.agentName': 'asc'},
            },
            {
                'dimensions': ['Sessions.userId'],
                'measures': ['Sessions.averagePerUser'],
                'limit': 10,
                'order': {'Sessions.userId': 'asc'},
            },
            {
                'dimensions': ['TrackedEvents.agentName'],
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['1']}],
            },
            {
                'dimensions': ['TrackedEvents.agentName'],
                'segments': ['TrackedEvents.knownUsers'],
                'limit': 5,
                'order': {'TrackedEvents.agentName': 'asc'},
            },
            {'dimensions': ['TrackedEvents.eventId'], 'limit': 5, 'order': {'TrackedEvents.eventId': 'asc'}},
            {
                'dimensions': ['ReturningUsers.sessionsCount'],
                'measures': ['ReturningUsers.returningUsersCount'],
                'limit': 10,
                'order': {'ReturningUsers.sessionsCount': 'desc'},
            },
        ]
        for query in queries:
            self.add('ungrouped', {**query, 'ungrouped': True})

    def compare_date_ranges(self) -> None:
        for _ in range(8):
            ranges = [self.date_range() for _ in range(self.rng.randint(2, 3))]
            time_dimension = {
                'dimension': 'TrackedEvents.utcTime',
                'granularity': self.pick(('day', 'week')),
                'compareDateRange': ranges,
            }
            query: dict[str, Any] = {'measures': ['TrackedEvents.count'], 'timeDimensions': [time_dimension]}
            if self.rng.random() < 0.5:
                query['dimensions'] = ['TrackedEvents.agentName']
            self.add('compare', self.with_tz(query))
        self.add(
            'compare',
            {
                'measures': ['Sessions.count'],
                'timeDimensions': [{'dimension': 'Sessions.startAt', 'compareDateRange': ['this month', 'last month']}],
            },
        )
        self.add(
            'compare',
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {
                        'dimension': 'TrackedEvents.utcTime',
                        'granularity': 'day',
                        'compareDateRange': [['2024-03-01', '2024-03-03']],
                    }
                ],
                'responseFormat': 'compact',
            },
        )

    def blending(self) -> None:
        month = {'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'}
        sessions_month = {'dimension': 'Sessions.startAt', 'granularity': 'month'}
        cases: list[Any] = [
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [month]},
                {'measures': ['Sessions.count'], 'timeDimensions': [sessions_month]},
            ],
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [{**month, 'dateRange': 'last 3 months'}]},
                {
                    'measures': ['TrackedEvents.uniqueUsersCount'],
                    'timeDimensions': [{**month, 'dateRange': 'last 3 months'}],
                    'dimensions': ['TrackedEvents.agentName'],
                },
            ],
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [month], 'responseFormat': 'compact'},
                {'measures': ['Sessions.count'], 'timeDimensions': [sessions_month], 'responseFormat': 'compact'},
            ],
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [month], 'timezone': 'Europe/Berlin'},
                {'measures': ['Sessions.count'], 'timeDimensions': [sessions_month], 'timezone': 'Asia/Kolkata'},
            ],
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [month]},
                {'measures': ['Sessions.count'], 'timeDimensions': [{**sessions_month, 'granularity': 'week'}]},
            ],
            [{'measures': ['TrackedEvents.count'], 'timeDimensions': [month]}, {'measures': ['Sessions.count']}],
            [{'measures': ['TrackedEvents.count'], 'timeDimensions': [month]}],
            [
                {'measures': ['TrackedEvents.count'], 'timeDimensions': [month], 'limit': 2, 'total': True},
                {
                    'measures': ['ReturningUsers.count'],
                    'timeDimensions': [{'dimension': 'ReturningUsers.first_timestamp', 'granularity': 'month'}],
                },
            ],
        ]
        for query in cases:
            self.add('blending', query)

    def response_formats(self) -> None:
        queries: list[dict[str, Any]] = [
            {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.agentName']},
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['TrackedEvents.agentName'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'}],
            },
            {
                'dimensions': ['TrackedEvents.eventName'],
                'measures': ['TrackedEvents.count', 'TrackedEvents.pageViewsCount'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'week', 'dateRange': 'last month'}
                ],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.agentName', 'operator': 'equals', 'values': ['Opera']}],
                'dimensions': ['TrackedEvents.agentName'],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'},
                    {'dimension': 'TrackedEvents.utcTime', 'granularity': 'year'},
                ],
            },
            {
                'dimensions': ['TrackedEvents.isBot', 'TrackedEvents.utcTime'],
                'limit': 5,
                'order': {'TrackedEvents.utcTime': 'asc'},
            },
        ]
        for query in queries:
            for response_format in ('compact', 'columnar', 'default'):
                self.add('format', {**query, 'responseFormat': response_format})

    def joins(self) -> None:
        """Queries across the shipped model's joins (TrackedEvents → Sessions, TrackedEvents → ReturningUsers, Sessions
        → ReturningUsers, all many_to_one), where a join multiplies the rows of the cube on its `one` side."""
        month = {'dimension': 'TrackedEvents.utcTime', 'granularity': 'month'}
        queries: list[dict[str, Any]] = [
            {'measures': ['TrackedEvents.count'], 'dimensions': ['Sessions.isFirst']},
            {'measures': ['TrackedEvents.count', 'Sessions.count'], 'dimensions': ['TrackedEvents.agentName']},
            {
                'measures': ['Sessions.averageDurationMinutes', 'TrackedEvents.count'],
                'dimensions': ['TrackedEvents.eventName'],
            },
            {'measures': ['ReturningUsers.count'], 'dimensions': ['TrackedEvents.browserLanguage']},
            {
                'measures': ['ReturningUsers.allSessionsCount', 'TrackedEvents.uniqueUsersCount'],
                'timeDimensions': [month],
            },
            {'measures': ['Sessions.count'], 'dimensions': ['ReturningUsers.sessionsCount']},
            {
                'measures': ['Sessions.repeatPercent'],
                'dimensions': ['ReturningUsers.sessionsCount'],
                'order': {'ReturningUsers.sessionsCount': 'asc'},
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'Sessions.numberEvents', 'operator': 'gt', 'values': ['5']}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['Sessions.agentName'],
                'timeDimensions': [{**month, 'dateRange': ['2024-01-01', '2024-02-29']}],
                'timezone': 'Europe/Berlin',
            },
            {
                'measures': ['Sessions.count', 'ReturningUsers.returningUserPercentage'],
                'dimensions': ['Sessions.osFamily'],
                'limit': 3,
                'order': {'Sessions.osFamily': 'asc'},
                'total': True,
            },
            {
                'measures': ['TrackedEvents.pageViewsCount'],
                'dimensions': ['Sessions.isFirst'],
                'segments': ['TrackedEvents.knownUsers'],
            },
            {
                'measures': ['TrackedEvents.count'],
                'dimensions': ['ReturningUsers.sessionsCount', 'Sessions.isFirst'],
                'filters': [{'member': 'TrackedEvents.count', 'operator': 'gt', 'values': ['20']}],
            },
            {
                'dimensions': ['TrackedEvents.agentName', 'Sessions.durationMinutes'],
                'ungrouped': True,
                'limit': 10,
                'order': [['Sessions.durationMinutes', 'desc'], ['TrackedEvents.agentName', 'asc']],
            },
            {'measures': ['Sessions.count'], 'dimensions': ['TrackedEvents.agentName']},
        ]
        for query in queries:
            self.add('join', self.with_tz(query))

    def invalid(self) -> None:
        queries: list[Any] = [
            {'measures': ['TrackedEvents.nope']},
            {'measures': ['Nope.count']},
            {'dimensions': ['TrackedEvents.count']},
            {'measures': ['TrackedEvents.agentName']},
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.agentName', 'operator': 'like', 'values': ['x']}],
            },
            {'measures': ['TrackedEvents.count'], 'filters': [{'member': 'TrackedEvents.agentName', 'values': ['x']}]},
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.agentName', 'operator': 'equals'}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.agentName', 'operator': 'equals', 'values': []}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.agentName', 'operator': 'equals', 'values': 'Chrome'}],
            },
            [],
            'TrackedEvents.count',
            42,
            None,
            {},
            {'measures': []},
            {'measures': 'TrackedEvents.count'},
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {
                        'dimension': 'TrackedEvents.utcTime',
                        'granularity': 'day',
                        'dateRange': ['2024-13-45', '2024-14-01'],
                    }
                ],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': '2024-02-30'}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [
                    {
                        'member': 'TrackedEvents.utcTime',
                        'operator': 'inDateRange',
                        'values': ['2024-13-45', '2024-12-01'],
                    }
                ],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.utcTime', 'operator': 'afterDate', 'values': ['2024-13-45']}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': 'the day after the blue moon'}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'granularity': 'fortnight'}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.agentName', 'granularity': 'day'}],
            },
            {'measures': ['TrackedEvents.count'], 'timeDimensions': [{'granularity': 'day'}]},
            {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.eventId']},
            {'measures': ['Sessions.count'], 'dimensions': ['Sessions.sessionID']},
            {'dimensions': ['ReturningUsers.userId'], 'limit': 3},
            {'measures': ['TrackedEvents.count'], 'limit': -1},
            {'measures': ['TrackedEvents.count'], 'limit': 50001},
            {'measures': ['TrackedEvents.count'], 'limit': 'ten'},
            {'measures': ['TrackedEvents.count'], 'limit': 2.5},
            {'measures': ['TrackedEvents.count'], 'offset': -3},
            {'measures': ['TrackedEvents.count'], 'timezone': 'Mars/Olympus'},
            {'measures': ['TrackedEvents.count'], 'timezone': 5},
            {'measures': ['TrackedEvents.count'], 'order': {'TrackedEvents.count': 'up'}},
            {'measures': ['TrackedEvents.count'], 'order': {'TrackedEvents.nope': 'asc'}},
            {'measures': ['TrackedEvents.count'], 'segments': ['TrackedEvents.nope']},
            {'measures': ['TrackedEvents.count'], 'segments': ['TrackedEvents.agentName']},
            {'measures': ['TrackedEvents.count'], 'foo': 1},
            {'measures': ['TrackedEvents.count'], 'responseFormat': 'xml'},
            {'measures': ['TrackedEvents.count'], 'total': 'maybe'},
            {'measures': ['TrackedEvents.count'], 'ungrouped': 'yes'},
            {'measures': ['TrackedEvents.count', 'Sessions.count']},
            {'measures': ['TrackedEvents.count'], 'dimensions': ['Sessions.agentName']},
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [
                    {'dimension': 'TrackedEvents.utcTime', 'compareDateRange': ['last week', 'this week']},
                    {'dimension': 'TrackedEvents.derivedTstamp', 'compareDateRange': ['last week']},
                ],
            },
            {
                'measures': ['TrackedEvents.count'],
                'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'compareDateRange': []}],
            },
            [{'measures': ['TrackedEvents.count']}, {'measures': ['Sessions.count']}],
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.latencyMs', 'operator': 'gt', 'values': ['abc']}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.isBot', 'operator': 'equals', 'values': ['maybe']}],
            },
            {
                'measures': ['TrackedEvents.count'],
                'filters': [{'member': 'TrackedEvents.count', 'operator': 'contains', 'values': ['1']}],
            },
            {'measures': ['TrackedEvents.count'], 'filters': {'member': 'TrackedEvents.agentName', 'operator': 'set'}},
            {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.utcTime.fortnight']},
            {'measures': ['TrackedEvents..count']},
        ]
        for query in queries:
            self.add('invalid', query)

    def random_mix(self, count: int) -> None:
        """Random well-formed queries over one cube: members, a time dimension, filters, order, limit."""
        for _ in range(count):
            members = self.cubes[self.pick(('TrackedEvents', 'TrackedEvents', 'Sessions', 'ReturningUsers'))]
            query: dict[str, Any] = {'measures': self.rng.sample(members.measures, self.rng.randint(1, 2))}
            dimensions = self.rng.sample(members.dimensions, self.rng.randint(0, min(2, len(members.dimensions))))
            if dimensions:
                query['dimensions'] = dimensions
            if self.rng.random() < 0.6:
                time_dimension: dict[str, Any] = {'dimension': self.pick(members.time_dimensions)}
                if self.rng.random() < 0.8:
                    time_dimension['granularity'] = self.pick(('day', 'week', 'month', 'quarter', 'year'))
                if self.rng.random() < 0.7:
                    time_dimension['dateRange'] = self.date_range()
                query['timeDimensions'] = [time_dimension]
            strings = [m for m in self.string_dimensions(members.cube) if m in STRING_VALUES]
            if strings and self.rng.random() < 0.5:
                member = self.pick(strings)
                operator = self.pick(('equals', 'notEquals', 'contains', 'set', 'notSet', 'startsWith'))
                values = self._string_values(member, operator)
                query['filters'] = [
                    {
                        k: v
                        for k, v in {'member': member, 'operator': operator, 'values': values}.items()
                        if v is not None
                    }
                ]
            if self.rng.random() < 0.3:
                query['limit'] = self.rng.randint(1, 20)
                query['order'] = [[m, self.pick(('asc', 'desc'))] for m in [*dimensions, *query['measures']]]
            self.add('mix', self.with_tz(query))


def generate(seed: int = SEED) -> list[Case]:
    generator = Generator(seed)
    groups: list[Callable[[], None]] = [
        generator.measures_alone,
        generator.dimensions,
        generator.granularities,
        generator.relative_ranges,
        generator.absolute_ranges,
        generator.timezones,
        generator.dst_times,
        generator.string_filters,
        generator.number_and_boolean_filters,
        generator.date_filters,
        generator.nested_filters,
        generator.measure_filters,
        generator.segments,
        generator.orders,
        generator.limits,
        generator.ungrouped,
        generator.compare_date_ranges,
        generator.blending,
        generator.response_formats,
        generator.joins,
        generator.invalid,
    ]
    for group in groups:
        group()
    generator.random_mix(60)
    ids = [case.id for case in generator.cases]
    assert len(ids) == len(set(ids)), 'case ids must be unique'
    return generator.cases


def iter_leaves(filters: Any) -> Iterator[dict]:
    """Every filter condition of a query's `filters`, inside and/or groups too."""
    if isinstance(filters, list):
        for item in filters:
            yield from iter_leaves(item)
    elif isinstance(filters, dict):
        if 'and' in filters or 'or' in filters:
            yield from iter_leaves(filters.get('and') or filters.get('or') or [])
        else:
            yield filters
