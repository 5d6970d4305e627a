"""Cube query normalisation (spec §1): validated input → `Query` objects plus the normalised echo Cube returns."""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from serverless_analytics.cube.dates import resolve_date_range
from serverless_analytics.cube.guards import TOO_DEEP, check_request
from serverless_analytics.cube.limits import DEFAULT_LIMIT, MAX_LIMIT, MAX_TIMEZONE_CHARS
from serverless_analytics.cube.schema import OPERATORS, invalid, validate_query
from serverless_analytics.cube.values import js_json, js_number, js_string
from serverless_analytics.models.errors import CubeLimitError, CubeQueryError

NO_VALUE_OPERATORS = ('set', 'notSet', 'measureFilter')
# IANA names are short ASCII paths of up to three parts; anything else is not looked up at all, as zoneinfo
# walks a long path recursively.
_TIMEZONE_NAME = re.compile(r'[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+){0,2}')
REGULAR, COMPARE, BLENDING = 'regularQuery', 'compareDateRangeQuery', 'blendingQuery'
_RANGE_OPERATORS = frozenset({'inDateRange', 'notInDateRange', 'onTheDate'})
_START_OPERATORS = frozenset({'beforeDate', 'afterOrOnDate'})
_END_OPERATORS = frozenset({'beforeOrOnDate', 'afterDate'})
_ABSOLUTE_DATE_TIME = re.compile(r'^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$')


@dataclass(frozen=True)
class FilterLeaf:
    member: str
    operator: str
    values: tuple[str | None, ...] | None


@dataclass(frozen=True)
class FilterGroup:
    kind: str  # 'and' | 'or'
    items: tuple


@dataclass(frozen=True)
class TimeDimension:
    dimension: str
    granularity: str | None
    date_range: tuple[str, str] | None


@dataclass
class Query:
    """One normalised query; `echo` is exactly what Cube returns as `query` / `normalizedQueries[i]`."""

    measures: list[str]
    dimensions: list[str]
    time_dimensions: list[TimeDimension]
    filters: list
    segments: list[str]
    order: list[tuple[str, bool]]
    timezone: str
    limit: int
    offset: int | None
    total: bool
    ungrouped: bool
    response_format: str
    echo: dict = field(default_factory=dict)


def parse_query_param(value: Any) -> Any:
    """The `query` parameter: JSON object/array, or a JSON string of one (gateway `parseQueryParam`)."""
    if value is None or value == 'undefined' or value == '':
        raise CubeQueryError('Query param is required')
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise CubeQueryError(f'Unable to decode query param as JSON, error: {error}') from error
        except RecursionError:
            raise CubeQueryError(TOO_DEEP) from None
    if not isinstance(value, (dict, list)):
        raise CubeQueryError(_not_an_object(value))
    return value


def _not_an_object(value: Any) -> str:
    """What Cube's gateway answers (a 500 there: it sets `cacheMode` on the query) for a query that is JSON but
    neither an object nor an array."""
    if value is None:
        return "TypeError: Cannot set properties of null (setting 'cacheMode')"
    if isinstance(value, bool):
        kind, text = 'boolean', 'true' if value else 'false'
    elif isinstance(value, (int, float)):
        kind, text = 'number', js_number(float(value)) if isinstance(value, float) else str(value)
    else:
        kind, text = 'string', str(value)
    return f"TypeError: Cannot create property 'cacheMode' on {kind} '{text}'"


def normalize_request(query_json: Any, now: datetime) -> tuple[str, list[Query]]:
    """A load/dry-run `query` to its query type and normalised queries."""
    raw = parse_query_param(query_json)
    check_request(raw)
    if isinstance(raw, list):
        queries = [normalize_query(q, now) for q in raw]
        _check_blending(queries)
        return BLENDING, queries
    expanded = _expand_compare_date_range(raw)
    if expanded is None:
        return REGULAR, [normalize_query(raw, now)]
    return COMPARE, [normalize_query(q, now) for q in expanded]


def _expand_compare_date_range(query: Any) -> list[dict] | None:
    if not isinstance(query, dict) or not isinstance(query.get('timeDimensions'), list):
        return None
    with_compare = [td for td in query['timeDimensions'] if isinstance(td, dict) and 'compareDateRange' in td]
    if not with_compare:
        return None
    if len(with_compare) > 1:
        raise CubeQueryError('compareDateRange can only exist for one timeDimension')
    ranges = with_compare[0]['compareDateRange']
    if not isinstance(ranges, list) or not ranges:
        raise invalid('"timeDimensions[0].compareDateRange" must be an array')
    return [{**query, 'timeDimensions': [_with_range(td, r) for td in query['timeDimensions']]} for r in ranges]


def _with_range(td: dict, date_range: Any) -> dict:
    if not isinstance(td, dict) or 'compareDateRange' not in td:
        return td
    return {**{k: v for k, v in td.items() if k != 'compareDateRange'}, 'dateRange': date_range}


def _check_blending(queries: list[Query]) -> None:
    if not queries:  # Cube finds no granularity in an empty blending array either
        raise CubeQueryError('Data blending query without granularity is not supported')
    granularities = []
    for query in queries:
        with_granularity = [td.granularity for td in query.time_dimensions if td.granularity]
        if not with_granularity:
            raise CubeQueryError('Data blending query without granularity is not supported')
        granularities.append(with_granularity[0])
    if len(set(granularities)) > 1:
        raise CubeQueryError('Data blending query granularities must match')


def normalize_query(query: Any, now: datetime) -> Query:
    """Cube's `normalizeQuery`: validation, defaults, renames and resolved date ranges."""
    query = validate_query(query)
    if query.get('limit', 0) > MAX_LIMIT:
        raise CubeLimitError()
    _check_members_present(query)
    filters = query.get('filters') or []
    _check_filter_leaves(filters)
    timezone = _timezone(query.get('timezone') or 'UTC')
    dimensions = [d for d in query.get('dimensions') or [] if d.count('.') == 1]
    moved = [_split_dimension(d) for d in query.get('dimensions') or [] if d.count('.') == 2]
    time_echo = [_time_echo(td, timezone, now) for td in query.get('timeDimensions') or []] + moved
    filter_echo = [_filter_echo(f, timezone, now) for f in filters]
    order = _order(query.get('order'))
    limit = query.get('limit', DEFAULT_LIMIT)
    replaced = {
        'timezone': timezone,
        'order': [{'id': m, 'desc': d} for m, d in order],
        'filters': filter_echo,
        'dimensions': dimensions,
        'timeDimensions': time_echo,
        'limit': limit,
        'rowLimit': limit,
    }
    echo = {key: replaced.get(key, value) for key, value in query.items()} | replaced
    return Query(
        measures=list(query.get('measures') or []),
        dimensions=dimensions,
        time_dimensions=[_time_dimension(td) for td in time_echo],
        filters=[_filter(f) for f in filter_echo],
        segments=list(query.get('segments') or []),
        order=order,
        timezone=timezone,
        limit=limit,
        offset=query.get('offset'),
        total=bool(query.get('total')),
        ungrouped=bool(query.get('ungrouped')),
        response_format=query.get('responseFormat', 'default'),
        echo=echo,
    )


def _check_members_present(query: dict) -> None:
    granular = [td for td in query.get('timeDimensions') or [] if td.get('granularity')]
    if not (query.get('measures') or query.get('dimensions') or granular):
        raise CubeQueryError(
            'Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid'
        )


def _leaves(filters: list):
    for item in filters:
        if 'or' in item or 'and' in item:
            yield from _leaves(item.get('or') or item.get('and') or [])
        else:
            yield item


def _check_filter_leaves(filters: list) -> None:
    leaves = list(_leaves(filters))
    for message, failing in (
        ('Operator required for filter: ', lambda f: not f.get('operator')),
        ('Operator {op} not supported for filter: ', lambda f: f['operator'] not in OPERATORS),
        ('Values required for filter: ', lambda f: not f.get('values') and f['operator'] not in NO_VALUE_OPERATORS),
    ):
        found = next((f for f in leaves if failing(f)), None)
        if found is not None:
            raise CubeQueryError(message.format(op=found.get('operator')) + js_json(found))


def _timezone(name: str) -> str:
    """The zone's name as the tz database spells it: Cube 1.7 matches names case-insensitively (`europe/berlin`)."""
    try:
        if len(name) > MAX_TIMEZONE_CHARS or not _TIMEZONE_NAME.fullmatch(name):
            raise ValueError(name)
        canonical = _zone_names().get(name.lower(), name)
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise invalid(f'"timezone" must be a valid IANA time zone, got "{name}"') from error
    return canonical


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _split_dimension(name: str) -> dict:
    cube, member, granularity = name.split('.')
    return {'dimension': f'{cube}.{member}', 'granularity': granularity}


def _time_echo(td: dict, timezone: str, now: datetime) -> dict:
    if 'dateRange' not in td:
        return dict(td)
    return {**td, 'dateRange': resolve_date_range(td['dateRange'], timezone, now)}


def _time_dimension(echo: dict) -> TimeDimension:
    date_range = tuple(echo['dateRange']) if 'dateRange' in echo else None
    return TimeDimension(echo['dimension'], echo.get('granularity'), date_range)


def _filter_echo(item: dict, timezone: str, now: datetime) -> dict:
    if 'or' in item or 'and' in item:
        kind = 'or' if 'or' in item else 'and'
        return {kind: [_filter_echo(child, timezone, now) for child in item[kind]]}
    echo = {'member': item.get('member') or item.get('dimension'), 'operator': item['operator']}
    if item.get('values') is not None:
        values = [js_string(v) for v in item['values']]
        echo['values'] = _resolved_date_values(echo['operator'], values, timezone, now)
    return echo


def _resolved_date_values(operator: str, values: list, timezone: str, now: datetime) -> list:
    """Cube 1.7's `normalizeDateFilterValues`: a date operator's one relative value is resolved, and echoed so: a
    range operator takes the whole range, `beforeDate`/`afterOrOnDate` its start, `afterDate`/`beforeOrOnDate` its
    end; absolute values stay as sent."""
    if operator in _RANGE_OPERATORS and len(values) > 1 and any(_is_relative(v) for v in values):
        raise CubeQueryError(
            'Relative-date strings are only supported when `values` has a single element for operator '
            f'`{operator}`. Pass an absolute two-element [start, end] pair, or a single relative string like '
            f'["last 2 weeks"]. Got: {js_json(values)}'
        )
    if len(values) != 1 or not isinstance(values[0], str):
        return values
    if operator in _RANGE_OPERATORS:
        return resolve_date_range(values[0], timezone, now)
    if not _is_relative(values[0]):
        return values
    if operator in _START_OPERATORS:
        return resolve_date_range(values[0], timezone, now)[:1]
    if operator in _END_OPERATORS:
        return resolve_date_range(values[0], timezone, now)[1:]
    return values


def _is_relative(value: Any) -> bool:
    return isinstance(value, str) and not _ABSOLUTE_DATE_TIME.match(value)


def _filter(echo: dict):
    if 'member' not in echo:
        kind = next(iter(echo))
        return FilterGroup(kind, tuple(_filter(child) for child in echo[kind]))
    values = tuple(echo['values']) if 'values' in echo else None
    return FilterLeaf(echo['member'], echo['operator'], values)


def _order(value: Any) -> list[tuple[str, bool]]:
    if not value:
        return []
    pairs = value.items() if isinstance(value, dict) else [(pair[0], pair[1]) for pair in value]
    return [(member, direction == 'desc') for member, direction in pairs]
