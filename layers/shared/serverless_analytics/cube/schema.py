"""The query JSON schema of Cube's gateway (its Joi `querySchema`, spec §1.1), with Joi-style messages.

Every failure raises `CubeQueryError('Invalid query format: <joi message>')`.
"""

import math
import re
from typing import Any

from serverless_analytics.models.errors import CubeQueryError

ID_PATTERN = re.compile(r'^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$')
DIMENSION_PATTERN = re.compile(r'^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+(\.(second|minute|hour|day|week|month|year))?$')
GRANULARITIES = ('quarter', 'day', 'month', 'year', 'week', 'hour', 'minute', 'second')
# Joi quotes a pattern as JavaScript writes it; these regexes read the same in both languages.
_ID_SOURCE = f'/{ID_PATTERN.pattern}/'
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
    'renewQuery',
    'ungrouped',
    'responseFormat',
)
_TIME_DIMENSION_KEYS = ('dimension', 'granularity', 'dateRange', 'compareDateRange')
# Joi's numbers are JavaScript's: beyond 2**53 - 1 an integer is no longer exact, and Joi refuses it.
MAX_SAFE_INTEGER = 2**53 - 1
_LEAF_KEYS = ('member', 'dimension', 'operator', 'values')


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
    for key, minimum in (('limit', 1), ('offset', 0)):
        if key in query:
            converted[key] = _integer(query[key], key, minimum)
    for key in ('total', 'renewQuery', 'ungrouped'):
        if key in query:
            converted[key] = _boolean(query[key], key)
    if 'responseFormat' in query and query['responseFormat'] not in ('default', 'compact'):
        raise invalid('"responseFormat" must be one of [default, compact]')
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
        if granularity is not None and granularity not in GRANULARITIES:
            raise invalid(f'"{label}.granularity" must be one of [{", ".join(GRANULARITIES)}, null]')
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
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not 1 <= len(value) <= 2 or not all(isinstance(v, str) for v in value):
        raise invalid(f'"{label}" must be one of [string, array of 1 or 2 strings]')


def _check_object(item: Any, label: str, keys: tuple[str, ...]) -> None:
    if not isinstance(item, dict):
        raise invalid(f'"{label}" must be of type object')
    for key in item:
        if key not in keys:
            raise invalid(f'"{label}.{key}" is not allowed')


def _check_filters(value: Any, label: str) -> None:
    if value is None:
        return
    for index, item in enumerate(_check_array(value, label)):
        item_label = f'{label}[{index}]'
        if isinstance(item, dict) and ('or' in item or 'and' in item):
            _check_object(item, item_label, ('or', 'and'))
            if len(item) != 1:
                raise invalid(f'"{item_label}" contains a conflict between exclusive peers [or, and]')
            key = next(iter(item))
            _check_filters(item[key], f'{item_label}.{key}')
            continue
        _check_leaf(item, item_label)


def _check_leaf(item: Any, label: str) -> None:
    _check_object(item, label, _LEAF_KEYS)
    if 'member' in item and 'dimension' in item:
        raise invalid(f'"{label}" contains a conflict between exclusive peers [member, dimension]')
    if 'member' not in item and 'dimension' not in item:
        raise invalid(f'"{label}" must contain at least one of [member, dimension]')
    key = 'member' if 'member' in item else 'dimension'
    _check_id(item[key], f'{label}.{key}', DIMENSION_PATTERN, _DIMENSION_SOURCE)
    if 'operator' in item and item['operator'] is not None and not isinstance(item['operator'], str):
        raise invalid(f'"{label}.operator" must be a string')
    if item.get('values') is not None:
        for position, entry in enumerate(_check_array(item['values'], f'{label}.values')):
            if entry is not None and not isinstance(entry, (str, int, float, bool)):
                raise invalid(f'"{label}.values[{position}]" must be one of [string, number, boolean, null]')


def _check_order(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for member, direction in value.items():
            _check_id(member, f'order.{member}', DIMENSION_PATTERN, _DIMENSION_SOURCE)
            if direction not in ('asc', 'desc'):
                raise invalid(f'"order.{member}" must be one of [asc, desc]')
        return
    if not isinstance(value, list):
        raise invalid('"order" must be one of [object, array]')
    for index, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) < 2:
            raise invalid(f'"order[{index}]" must contain at least 2 items')
        _check_id(pair[0], f'order[{index}][0]', DIMENSION_PATTERN, _DIMENSION_SOURCE)
        if pair[1] not in ('asc', 'desc'):
            raise invalid(f'"order[{index}][1]" must be one of [asc, desc]')


def _integer(value: Any, label: str, minimum: int) -> int:
    """Joi's `number().integer().min(minimum)`, in Joi's order: type, safe range, integer, minimum."""
    number = value
    if isinstance(value, str) and re.fullmatch(r'\s*-?\d+\s*', value):
        number = _digits_to_int(value.strip(), label)
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


def _digits_to_int(text: str, label: str) -> int:
    # A longer run of digits is unsafe whatever it holds; `int()` of thousands of digits is refused by Python.
    if len(text.lstrip('-').lstrip('0')) > len(str(MAX_SAFE_INTEGER)):
        raise invalid(f'"{label}" must be a safe number')
    return int(text)


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ('true', 'false'):
        return value == 'true'
    raise invalid(f'"{label}" must be a boolean')
