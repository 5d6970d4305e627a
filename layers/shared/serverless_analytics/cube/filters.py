"""Filter operators to SQL conditions, with Cube's NULL and case rules (spec §1.3, `BaseFilter`).

Values only ever become sqlglot literals (quoted and escaped by sqlglot), never SQL text.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from serverless_analytics.cube.datamodel import Member
from serverless_analytics.cube.dates import (
    filter_time,
    local_to_utc,
    normalize_range_item,
    parse_local,
    resolve_date_range,
)
from serverless_analytics.cube.dialects import as_text, timestamp_literal
from serverless_analytics.cube.query import FilterLeaf
from serverless_analytics.models.errors import CubeQueryError

_LIKE = {
    'contains': ('%', '%', False),
    'notContains': ('%', '%', True),
    'startsWith': ('', '%', False),
    'notStartsWith': ('', '%', True),
    'endsWith': ('%', '', False),
    'notEndsWith': ('%', '', True),
}
_COMPARE = {'gt': exp.GT, 'gte': exp.GTE, 'lt': exp.LT, 'lte': exp.LTE}
_SINGLE_DATE = {'beforeDate': exp.LT, 'beforeOrOnDate': exp.LTE, 'afterDate': exp.GT, 'afterOrOnDate': exp.GTE}
_COMPARED_WITH_END = frozenset({'afterDate', 'beforeOrOnDate'})
_INTEGER = re.compile(r'^-?\d{1,18}$')


@dataclass(frozen=True)
class FilterContext:
    timezone: str
    now: datetime
    dialect: str


def leaf_condition(leaf: FilterLeaf, member: Member, column: exp.Expression, ctx: FilterContext) -> exp.Expr:
    """The SQL condition of one filter on `column` (the member's expression)."""
    op = leaf.operator
    if op == 'measureFilter':
        return member.condition.copy() if member.condition is not None else exp.true()
    if op in ('set', 'notSet'):
        return column.is_(exp.null()).not_() if op == 'set' else column.is_(exp.null())
    values = list(leaf.values or [])
    if op in ('equals', 'in'):
        return _equals(column, values, member, ctx)
    if op in ('notEquals', 'notIn'):
        return _not_equals(column, values, member, ctx)
    if op in _LIKE:
        if member.kind == 'measure':  # Cube sends it on and the database refuses it (a 400 either way)
            raise CubeQueryError(f"{op} can not be used with measures: '{member.path}'")
        return _like(column, values, member, *_LIKE[op])
    if op in _COMPARE:
        return _COMPARE[op](this=column, expression=_literal(values[0], member, ctx))
    return _date_condition(op, column, values, ctx)


def _non_null(values: list) -> list[str]:
    return [v for v in values if v is not None]


def _or_null(condition: exp.Expr, column: exp.Expression, add: bool) -> exp.Expr:
    return exp.or_(condition, column.copy().is_(exp.null())) if add else condition


def _equals(column, values, member, ctx) -> exp.Expression:
    present = _non_null(values)
    if not present:
        return column.is_(exp.null())
    literals = [_literal(v, member, ctx) for v in present]
    condition = column.isin(*literals) if len(values) > 1 else exp.EQ(this=column, expression=literals[0])
    return exp.paren(_or_null(condition, column, len(present) < len(values)), copy=False)


def _not_equals(column, values, member, ctx) -> exp.Expression:
    present = _non_null(values)
    if not present:
        return column.is_(exp.null()).not_()
    literals = [_literal(v, member, ctx) for v in present]
    condition: exp.Expression
    if len(values) > 1:
        condition = exp.Not(this=column.isin(*literals))
    else:
        condition = exp.NEQ(this=column, expression=literals[0])
    return exp.paren(_or_null(condition, column, len(present) == len(values)), copy=False)


def _like(column, values, member, prefix: str, suffix: str, negate: bool) -> exp.Expression:
    present = _non_null(values)
    text = column if member.type == 'string' else as_text(column)
    parts = [_ilike(text.copy(), prefix + _escape_like(v) + suffix, negate) for v in present]
    condition: exp.Expr
    if not parts:
        condition = exp.true() if negate else exp.false()
    else:
        condition = exp.and_(*parts) if negate else exp.or_(*parts)
    add_null = (len(present) == len(values)) if negate else (len(present) < len(values))
    return exp.paren(_or_null(exp.paren(condition, copy=False), column, add_null), copy=False)


def _ilike(column: exp.Expression, pattern: str, negate: bool) -> exp.Expression:
    like = exp.Escape(
        this=exp.ILike(this=column, expression=exp.Literal.string(pattern)), expression=exp.Literal.string('\\')
    )
    return exp.Not(this=like) if negate else like


def _escape_like(value: str) -> str:
    return value.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_')


def _literal(value: str | None, member: Member, ctx: FilterContext) -> exp.Expression:
    """A filter value as a literal of the member's type."""
    if value is None:
        return exp.null()
    if member.type == 'number':
        return _number(value, member)
    if member.type == 'boolean':
        lowered = value.strip().lower()
        if lowered not in ('true', 'false', '1', '0'):
            raise CubeQueryError(f"Invalid boolean value '{value}' for filter on {member.path}")
        return exp.true() if lowered in ('true', '1') else exp.false()
    if member.type == 'time':
        return timestamp_literal(local_to_utc(filter_time(value, 0, ctx.timezone), ctx.timezone), ctx.dialect)
    return exp.Literal.string(value)


def _number(value: str, member: Member) -> exp.Expression:
    text = value.strip()
    if _INTEGER.match(text):
        return exp.Literal.number(int(text))
    try:
        number = float(text)
    except ValueError as error:
        raise CubeQueryError(f"Invalid number value '{value}' for filter on {member.path}") from error
    if number != number or number in (float('inf'), float('-inf')):
        raise CubeQueryError(f"Invalid number value '{value}' for filter on {member.path}")
    return exp.Literal.number(repr(number))


def date_bounds(leaf: FilterLeaf, ctx: FilterContext) -> tuple[datetime, datetime]:
    """The local [from, to] a date operator compares with (padded as Cube pads them)."""
    values = _non_null(list(leaf.values or []))
    if not values:
        raise CubeQueryError(f'Values required for filter: {leaf.member}')
    if leaf.operator in _SINGLE_DATE:
        first = values[0]
        if _is_absolute(first):
            moment = filter_time(first, 0, ctx.timezone)
        else:  # a relative value is a range: `afterDate` and `beforeOrOnDate` compare with its end, as Cube does
            bound = 1 if leaf.operator in _COMPARED_WITH_END else 0
            moment = parse_local(resolve_date_range(first, ctx.timezone, ctx.now)[bound])
        return moment, moment
    if len(values) == 1:
        low, high = resolve_date_range(values[0], ctx.timezone, ctx.now)
        return parse_local(low), parse_local(high)
    return filter_time(values[0], 0, ctx.timezone), filter_time(values[1], 1, ctx.timezone)


def _is_absolute(value: str) -> bool:
    try:
        normalize_range_item(value, 0)
        return True
    except CubeQueryError:
        return False


def in_local_range(column: exp.Expression, start: datetime, end: datetime, ctx: FilterContext) -> exp.Expr:
    """`column` within the local [start, end] of the query's timezone: a time dimension's dateRange and an
    `inDateRange` filter compile alike."""
    low, high = _utc_literal(start, ctx), _utc_literal(end, ctx)
    return exp.and_(exp.GTE(this=column, expression=low), exp.LTE(this=column.copy(), expression=high))


def _utc_literal(moment: datetime, ctx: FilterContext) -> exp.Expression:
    return timestamp_literal(local_to_utc(moment, ctx.timezone), ctx.dialect)


def _date_condition(op: str, column: exp.Expression, values: list, ctx: FilterContext) -> exp.Expr:
    leaf = FilterLeaf('', op, tuple(values))
    start, end = date_bounds(leaf, ctx)
    if op in _SINGLE_DATE:
        return _SINGLE_DATE[op](this=column, expression=_utc_literal(start, ctx))
    if op == 'notInDateRange':
        low, high = _utc_literal(start, ctx), _utc_literal(end, ctx)
        return exp.paren(exp.or_(exp.LT(this=column, expression=low), exp.GT(this=column.copy(), expression=high)))
    if op in ('inDateRange', 'onTheDate'):
        return in_local_range(column, start, end, ctx)
    raise CubeQueryError(f'Operator {op} not supported')


def is_date_operator(op: str) -> bool:
    return op in ('inDateRange', 'notInDateRange', 'onTheDate') or op in _SINGLE_DATE


__all__ = ['FilterContext', 'leaf_condition', 'date_bounds', 'in_local_range', 'is_date_operator']
