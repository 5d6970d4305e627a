"""Checks that bound the work one request can cause, run on the decoded `query` before anything else reads it.

They walk the JSON without recursion, in time linear in its size, so that what runs after them (the schema,
normalisation, the compiler, deep copies of the echo) never recurses deeper, loops longer or builds more than
the caps of `cube.limits` allow.
"""

from typing import Any

from serverless_analytics.cube.limits import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUES,
    MAX_JSON_DEPTH,
    MAX_MEMBERS_PER_QUERY,
    MAX_ORDER_ITEMS,
    MAX_QUERIES_PER_REQUEST,
)
from serverless_analytics.models.errors import CubeQueryError

TOO_DEEP = (
    f'Unable to decode query param as JSON, error: arrays and objects nest more than {MAX_JSON_DEPTH} levels deep'
)
_MEMBER_KEYS = ('measures', 'dimensions', 'timeDimensions', 'segments')


def check_request(raw: Any) -> None:
    """Refuse a request over any cap; `raw` is the decoded `query` (an object, or an array for blending)."""
    queries = raw if isinstance(raw, list) else [raw]
    if len(queries) > MAX_QUERIES_PER_REQUEST:
        raise CubeQueryError(f'Blending query has {len(queries)} queries; the maximum is {MAX_QUERIES_PER_REQUEST}')
    for query in queries:
        if isinstance(query, dict):
            _check_query(query)
    _check_json(raw)


def _check_query(query: dict) -> None:
    filters, values = _filter_counts(query.get('filters'))
    members = filters + sum(len(query[key]) for key in _MEMBER_KEYS if isinstance(query.get(key), list))
    if members > MAX_MEMBERS_PER_QUERY:
        raise CubeQueryError(
            f'Query has {members} members (measures, dimensions, timeDimensions, segments and filters together); '
            f'the maximum is {MAX_MEMBERS_PER_QUERY}'
        )
    if values > MAX_FILTER_VALUES:
        raise CubeQueryError(f'Query filters have {values} values together; the maximum is {MAX_FILTER_VALUES}')
    order = query.get('order')
    if isinstance(order, (list, dict)) and len(order) > MAX_ORDER_ITEMS:
        raise CubeQueryError(f'Query has {len(order)} order entries; the maximum is {MAX_ORDER_ITEMS}')
    for ranges in _compare_date_ranges(query):
        if len(ranges) > MAX_QUERIES_PER_REQUEST:
            raise CubeQueryError(
                f'compareDateRange has {len(ranges)} date ranges; the maximum is {MAX_QUERIES_PER_REQUEST}'
            )


def _filter_counts(filters: Any) -> tuple[int, int]:
    """Items of `filters` at every level (conditions and and/or groups), and the values of its conditions;
    groups nested deeper than MAX_FILTER_DEPTH are refused."""
    items_count = values_count = 0
    pending = [(filters, 0)] if isinstance(filters, list) else []  # a list of filter items, and the groups above it
    while pending:
        items, depth = pending.pop()
        items_count += len(items)
        for item in items:
            children = _group_items(item)
            if children is None:
                values_count += _values_count(item)
            elif depth == MAX_FILTER_DEPTH:
                raise CubeQueryError(f'Query filters nest and/or groups more than {MAX_FILTER_DEPTH} levels deep')
            else:
                pending.append((children, depth + 1))
    return items_count, values_count


def _group_items(item: Any) -> list | None:
    """The items of an and/or group, as the normaliser will read them; None for a condition (or junk)."""
    if not isinstance(item, dict) or ('or' not in item and 'and' not in item):
        return None
    items = item.get('or') or item.get('and')
    return items if isinstance(items, list) else []


def _values_count(condition: Any) -> int:
    values = condition.get('values') if isinstance(condition, dict) else None
    return len(values) if isinstance(values, list) else 0


def _compare_date_ranges(query: dict):
    time_dimensions = query.get('timeDimensions')
    for item in time_dimensions if isinstance(time_dimensions, list) else []:
        if isinstance(item, dict) and isinstance(item.get('compareDateRange'), list):
            yield item['compareDateRange']


def _check_json(raw: Any) -> None:
    """Nesting within MAX_JSON_DEPTH, and no string (key or value) with a lone surrogate, which JSON allows as
    an escape but no engine can take in SQL, nor UTF-8 encode."""
    pending = [(raw, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                raise CubeQueryError(TOO_DEEP)
            children = value if isinstance(value, list) else [*value.keys(), *value.values()]
            pending.extend((child, depth + 1) for child in children)


def _check_string(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode()
    except UnicodeEncodeError:
        raise CubeQueryError('Invalid query format: strings must not hold lone surrogates (\\ud800-\\udfff)') from None
