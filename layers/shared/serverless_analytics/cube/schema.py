"""The query JSON schema of Cube's gateway (its Joi `querySchema`, spec §1.1), with Joi-style messages.

Every failure raises `CubeQueryError('Invalid query format: <joi message>')`.
"""

import math
import re
from typing import Any

from serverless_analytics.models.errors import CubeQueryError

ID_PATTERN = re.compile(r'^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$')
DIMENSION_PATTERN = re.compile(r'^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)?$')
# Cube 1.7 takes any granularity name here (custom granularities); an unknown one is refused when compiled.
MAX_GRANULARITY_CHARS = 128
CACHE_MODES = ('stale-if-slow', 'stale-while-revalidate', 'must-revalidate', 'no-cache')
RESPONSE_FORMATS = ('default', 'compact', 'columnar')
# Joi quotes a pattern as JavaScript writes it; these regexes read the same in both languages.
_ID_SOURCE = f'/{ID_PATTERN.pattern}/'
# An order key: a member, a time dimension with its granularity, or a bare name (a member expression's alias).
ORDER_PATTERN = re.compile(
    r'^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$|^[a-zA-Z0-9_]+$|^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$'
)
_ORDER_SOURCE = f'/{ORDER_PATTERN.pattern}/'
_DIMENSION_SOURCE = f'/{DIMENSION_PATTERN.pattern}/'
TOP_LEVEL_KEYS = (
    'measures',
    'dimensions',
    'filters',
    'timeDimensions',
    'segments',
    'order',
    'timezone',
    'limit',
    'offset',
    'total',
    'renewQuery',  # not in Cube 1.7's schema; older clients send it, so it is accepted and ignored (docs/cube.md)
    'ungrouped',
    'responseFormat',
    'cache',
    'cacheMode',
)
_TIME_DIMENSION_KEYS = ('dimension', 'granularity', 'dateRange', 'compareDateRange')
# Joi's numbers are JavaScript's: beyond 2**53 - 1 an integer is no longer exact, and Joi refuses it.
MAX_SAFE_INTEGER = 2**53 - 1
_LEAF_KEYS = ('member', 'dimension', 'operator', 'values')
OPERATORS = (
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
    'gt',
    'gte',
    'lt',
    'lte',
    'set',
    'notSet',
    'inDateRange',
    'notInDateRange',
    'onTheDate',
    'beforeDate',
    'beforeOrOnDate',
    'afterDate',
    'afterOrOnDate',
    'measureFilter',
)


def invalid(message: str) -> CubeQueryError:
    return CubeQueryError(f'Invalid query format: {message}')


def validate_query(query: Any) -> dict:
    """Check `query` against the schema; returns it with Joi's conversions applied (numeric strings)."""
    if not isinstance(query, dict):
        raise invalid('"value" must be of type object')
    for key in query:
        if key not in TOP_LEVEL_KEYS:
            raise invalid(f'"{key}" is not allowed')
    converted = dict(query)
    _check_members(query, 'measures', ID_PATTERN, _ID_SOURCE)
    _check_members(query, 'dimensions', DIMENSION_PATTERN, _DIMENSION_SOURCE)
    _check_members(query, 'segments', ID_PATTERN, _ID_SOURCE)
    _check_time_dimensions(query.get('timeDimensions'))
    _check_filters(query.get('filters'), 'filters')
    _check_order(query.get('order'))
    if 'timezone' in query and not isinstance(query['timezone'], str):
        raise invalid('"timezone" must be a string')
    for key in ('limit', 'offset'):
        if key in query:
            converted[key] = _integer(query[key], key)
    for key in ('total', 'renewQuery', 'ungrouped'):
        if key in query:
            converted[key] = _boolean(query[key], key)
    if 'responseFormat' in query and query['responseFormat'] not in RESPONSE_FORMATS:
        raise invalid(f'"responseFormat" must be one of [{", ".join(RESPONSE_FORMATS)}]')
    # Cube moves `cache` to `cacheMode` before validating, so both are reported as `cacheMode`.
    for key in ('cache', 'cacheMode'):
        if query.get(key) is not None and query[key] not in CACHE_MODES:
            raise invalid(f'"cacheMode" must be one of [{", ".join(CACHE_MODES)}]')
    return converted


def _check_array(value: Any, label: str) -> list:
    if not isinstance(value, list):
        raise invalid(f'"{label}" must be an array')
    return value


def _check_members(query: dict, key: str, pattern: re.Pattern, source: str) -> None:
    if key not in query:
        return
    for index, item in enumerate(_check_array(query[key], key)):
        _check_id(item, f'{key}[{index}]', pattern, source)


def _check_id(item: Any, label: str, pattern: re.Pattern = ID_PATTERN, source: str = _ID_SOURCE) -> None:
    if not isinstance(item, str):
        raise invalid(f'"{label}" must be a string')
    if not pattern.match(item):
        raise invalid(f'"{label}" with value "{item}" fails to match the required pattern: {source}')


def _check_time_dimensions(value: Any) -> None:
    if value is None:
        return
    for index, item in enumerate(_check_array(value, 'timeDimensions')):
        label = f'timeDimensions[{index}]'
        _check_object(item, label, _TIME_DIMENSION_KEYS)
        if 'dimension' not in item:
            raise invalid(f'"{label}.dimension" is required')
        _check_id(item['dimension'], f'{label}.dimension')
        granularity = item.get('granularity')
        if granularity is not None and not isinstance(granularity, str):
            raise invalid(f'"{label}.granularity" must be a string')
        if granularity is not None and len(granularity.encode()) > MAX_GRANULARITY_CHARS:
            raise invalid(
                f'"{label}.granularity" length must be less than or equal to {MAX_GRANULARITY_CHARS} characters long'
            )
        if 'dateRange' in item and 'compareDateRange' in item:
            raise invalid(
                f'"{label}" contains a conflict between optional exclusive peers [dateRange, compareDateRange]'
            )
        if 'dateRange' in item:
            _check_date_range(item['dateRange'], f'{label}.dateRange')
        if 'compareDateRange' in item:
            for position, entry in enumerate(_check_array(item['compareDateRange'], f'{label}.compareDateRange')):
                _check_date_range(entry, f'{label}.compareDateRange[{position}]')


def _check_date_range(value: Any, label: str) -> None:
    """Joi's `[array().items(string()).min(1).max(2), string()]`: an array is reported as an array."""
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise invalid(f'"{label}" must be one of [array, string]')
    for position, entry in enumerate(value):
        if not isinstance(entry, str):
            raise invalid(f'"{label}[{position}]" must be a string')
    if not value:
        raise invalid(f'"{label}" must contain at least 1 items')
    if len(value) > 2:
        raise invalid(f'"{label}" must contain less than or equal to 2 items')


def _check_object(item: Any, label: str, keys: tuple[str, ...]) -> None:
    if not isinstance(item, dict):
        raise invalid(f'"{label}" must be of type object')
    for key in item:
        if key not in keys:
            raise invalid(f'"{label}.{key}" is not allowed')


def _check_filters(value: Any, label: str) -> None:
    """Joi's `array().items(oneFilter, oneCondition)`: an item that is neither is reported as such, whatever is
    wrong inside it."""
    if value is None:
        return
    for index, item in enumerate(_check_array(value, label)):
        try:
            _check_filter(item)
        except CubeQueryError:
            raise invalid(f'"{label}[{index}]" does not match any of the allowed types') from None


def _check_filter(item: Any) -> None:
    if isinstance(item, dict) and ('or' in item or 'and' in item):
        _check_object(item, 'condition', ('or', 'and'))
        if len(item) != 1:
            raise invalid('or and and')
        nested = item[next(iter(item))]
        for entry in _check_array(nested, 'condition'):
            _check_filter(entry)
        return
    _check_leaf(item)


def _check_leaf(item: Any) -> None:
    _check_object(item, 'filter', _LEAF_KEYS)
    if ('member' in item) == ('dimension' in item):
        raise invalid('member xor dimension')
    _check_id(item.get('member', item.get('dimension')), 'member')
    if item.get('operator') not in OPERATORS:
        raise invalid('operator')
    for entry in _check_array(item.get('values', []), 'values'):
        if entry is not None and not isinstance(entry, (str, int, float, bool)):
            raise invalid('values')


def _check_order(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for member, direction in value.items():
            if not ORDER_PATTERN.match(member):
                raise invalid(f'"order.{member}" is not allowed')
            if direction not in ('asc', 'desc'):
                raise invalid(f'"order.{member}" must be one of [asc, desc]')
        return
    if not isinstance(value, list):
        raise invalid('"order" must be one of [object, array]')
    for index, pair in enumerate(value):
        label = f'order[{index}]'
        if len(_check_array(pair, label)) < 2:
            raise invalid(f'"{label}" must contain at least 2 items')
        _check_id(pair[0], f'{label}[0]', ORDER_PATTERN, _ORDER_SOURCE)
        if pair[1] not in ('asc', 'desc'):
            raise invalid(f'"{label}[1]" must be one of [asc, desc]')
        if len(pair) > 2:
            raise invalid(f'"{label}" must contain at most 2 items')


def _integer(value: Any, label: str, minimum: int = 0) -> int:
    """Joi's `number().integer().strict().min(0)`, in Joi's order: type (no numeric strings), safe range, integer,
    minimum."""
    number = value
    # Python's JSON reader takes Infinity and NaN, which JSON (and Cube's reader) do not have.
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise invalid(f'"{label}" must be a number')
    if abs(number) > MAX_SAFE_INTEGER:
        raise invalid(f'"{label}" must be a safe number')
    if number != int(number):
        raise invalid(f'"{label}" must be an integer')
    if number < minimum:
        raise invalid(f'"{label}" must be greater than or equal to {minimum}')
    return int(number)


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ('true', 'false'):
        return value == 'true'
    raise invalid(f'"{label}" must be a boolean')
