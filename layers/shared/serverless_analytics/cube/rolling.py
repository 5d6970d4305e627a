"""Rolling-window measures as Cube's BaseQuery computes them (`overTimeSeriesQuery`): a series of date ranges in
the query time zone, LEFT JOINed with a base query of the rows the windows can reach, the window of each range
given by `rollingWindowDateJoinCondition` (fixed) or `rollingWindowToDateJoinCondition` (to date).

Times here are wall-clock times of the query's time zone (naive), as Cube compares them: the time dimension
converted to the zone against `date_from`/`date_to` of the series.
"""

import re
from datetime import datetime

from sqlglot import exp

from serverless_analytics.cube.datamodel import Member, RollingWindowDef
from serverless_analytics.cube.dates import add, end_of, format_local, start_of
from serverless_analytics.cube.dialects import truncate
from serverless_analytics.models.errors import CubeQueryError

# Cube's standardGranularitiesParents: a granularity and the finer ones it is made of.
_PARENTS = {
    'year': ['year', 'quarter', 'month', 'day', 'hour', 'minute', 'second'],
    'quarter': ['quarter', 'month', 'day', 'hour', 'minute', 'second'],
    'month': ['month', 'day', 'hour', 'minute', 'second'],
    'week': ['week', 'day', 'hour', 'minute', 'second'],
    'day': ['day', 'hour', 'minute', 'second'],
    'hour': ['hour', 'minute', 'second'],
    'minute': ['minute', 'second'],
    'second': ['second'],
}
# moment's durations (a month is 365.2425 / 12 days), which Cube counts series ranges in.
_SECONDS = {
    'second': 1,
    'minute': 60,
    'hour': 3600,
    'day': 86400,
    'week': 604800,
    'month': 2_629_746,
    'quarter': 7_889_238,
    'year': 31_556_952,
}
_MAX_SERIES = 50_000  # Cube's checkSeriesForDateRange
_INTERVAL = re.compile(r'^(-?\d+) (minute|hour|day|week|month|quarter|year)s?$')
# BaseMeasure.isAdditive: aggregated per group first, then the groups aggregated again over each window.
# Typed as the node classes they are (see datamodel's _AGGREGATES).
_REAGGREGATE: dict[str, type[exp.Expression]] = {'count': exp.Sum, 'sum': exp.Sum, 'min': exp.Min, 'max': exp.Max}
_OVER_ROWS: dict[str, type[exp.Expression]] = {'avg': exp.Avg}


def is_additive(member: Member) -> bool:
    return member.agg_type in _REAGGREGATE or member.agg_type == 'countDistinctApprox'


def min_granularity(a: str | None, b: str | None) -> str | None:
    """Cube's `minGranularity`: the coarsest granularity both are made of (week and month give day)."""
    if not a or not b or a == b:
        return a or b
    a_parents, b_parents = _PARENTS[a][::-1], _PARENTS[b][::-1]
    last = max(_first_difference(a_parents, b_parents), _first_difference(b_parents, a_parents))
    if last == -1 and len(a_parents) == len(b_parents):
        last = len(a_parents) - 1
    return a_parents[last - 1]


def _first_difference(a: list[str], b: list[str]) -> int:
    return next((i for i, item in enumerate(a) if i >= len(b) or item != b[i]), -1)


def window_granularity(window: RollingWindowDef) -> str | None:
    """BaseMeasure.windowGranularity: the granularity the window's intervals are counted in."""
    return min_granularity(_interval_granularity(window.leading), _interval_granularity(window.trailing))


def _interval_granularity(interval: str | None) -> str | None:
    for unit in ('day', 'month', 'year', 'week', 'hour'):  # Cube's order of tests, `quarter` counts as none
        if interval and unit in interval:
            return unit
    return None


def time_series(granularity: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Cube's `timeSeries` for a predefined granularity: every period from the one holding `start` to the one
    holding `end`, each as its first and last millisecond."""
    count = int((end - start).total_seconds()) / _SECONDS[granularity]
    if count > _MAX_SERIES:
        raise CubeQueryError(
            f'The count of generated date ranges ({count:g}) for the request from [{format_local(start)}] to '
            f'[{format_local(end)}] by 1 {granularity} is over limit ({_MAX_SERIES}). Please reduce the requested '
            'date interval or use bigger granularity.'
        )
    periods = []
    current = start_of(start, granularity)
    while current <= end:
        periods.append((current, end_of(current, granularity)))
        current = add(current, granularity, 1)
    return periods


def series_values(periods: list[tuple[datetime, datetime]], dialect: str) -> exp.Subquery:
    """`(SELECT CAST(date_from AS TIMESTAMP) AS date_from, … FROM (VALUES …) AS dates (date_from, date_to))`."""
    rows = [exp.Tuple(expressions=[_text(start), _text(end)]) for start, end in periods]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier('dates'), columns=[exp.to_identifier('date_from'), exp.to_identifier('date_to')]
        ),
    )
    select = exp.select(
        exp.alias_(exp.cast(exp.column('date_from'), exp.DataType.Type.TIMESTAMP), 'date_from', copy=False),
        exp.alias_(exp.cast(exp.column('date_to'), exp.DataType.Type.TIMESTAMP), 'date_to', copy=False),
    ).from_(values)
    return exp.Subquery(this=select)


def local_timestamp(moment: datetime) -> exp.Expression:
    """A wall-clock time as a TIMESTAMP literal (no zone), compared with times converted to the query's zone."""
    return exp.cast(_text(moment), exp.DataType.Type.TIMESTAMP)


def _text(moment: datetime) -> exp.Literal:
    return exp.Literal.string(format_local(moment).replace('T', ' '))


def window_condition(
    window: RollingWindowDef, date_from: exp.Expression, date_to: exp.Expression, field: exp.Expression, spans: bool
) -> exp.Expr:
    """The rows of the window for the range [date_from, date_to]; `spans` is Cube's `isFromStartToEnd` (the
    base query's filter over the whole series, rather than one range's join condition)."""
    if window.type in ('to_date', 'year_to_date', 'quarter_to_date', 'month_to_date'):
        granularity = window.granularity or (window.type or '').replace('_to_date', '')
        start = truncate(date_from.copy(), granularity)
        return exp.and_(field.copy() >= start, field.copy() <= date_to.copy())
    offset = window.offset or 'end'
    conditions: list[exp.Expr] = []
    if window.trailing != 'unbounded':
        start = date_from if spans or offset == 'start' else date_to
        bound = _shift(start, window.trailing, -1)
        conditions.append(field.copy() >= bound if offset == 'start' else field.copy() > bound)
    if window.leading != 'unbounded':
        end = date_to if spans or offset == 'end' else date_from
        bound = _shift(end, window.leading, 1)
        conditions.append(field.copy() <= bound if offset == 'end' else field.copy() < bound)
    return exp.and_(*conditions) if conditions else exp.true()


def reach(window: RollingWindowDef, start: datetime, end: datetime) -> tuple[datetime | None, datetime | None]:
    """The wall-clock span of rows some window of the series [start, end] can reach (None: unbounded), to bound
    the partitions read."""
    if window.type in ('to_date', 'year_to_date', 'quarter_to_date', 'month_to_date'):
        granularity = window.granularity or (window.type or '').replace('_to_date', '')
        return start_of(start, granularity), end
    low = None if window.trailing == 'unbounded' else _moved(start, window.trailing, -1)
    high = None if window.leading == 'unbounded' else _moved(end, window.leading, 1)
    return low, high


def _moved(moment: datetime, interval: str | None, sign: int) -> datetime:
    if not interval:
        return moment
    amount, unit = _parse(interval)
    return add(moment, unit, sign * amount)


def _shift(moment: exp.Expression, interval: str | None, sign: int) -> exp.Expression:
    """`moment ± INTERVAL`, in units both engines accept (weeks as days, quarters as months)."""
    if not interval:
        return moment.copy()
    amount, unit = _parse(interval)
    if unit in ('week', 'quarter'):
        amount, unit = amount * (7 if unit == 'week' else 3), 'day' if unit == 'week' else 'month'
    value = exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.Var(this=unit.upper()))
    return exp.Add(this=moment.copy(), expression=value) if sign > 0 else exp.Sub(this=moment.copy(), expression=value)


def _parse(interval: str) -> tuple[int, str]:
    match = _INTERVAL.match(interval)
    assert match is not None, 'the data model validates rolling window intervals'
    return int(match.group(1)), match.group(2)


def reaggregate(member: Member, column: exp.Expression) -> exp.Expression:
    """Cube's outer aggregate of a rolling measure over the base rows a window joins: groups re-aggregated for
    an additive measure (`aggregateOnGroupedColumn`), raw values aggregated for the others."""
    agg = member.agg_type or ''
    if agg in _REAGGREGATE:
        return _REAGGREGATE[agg](this=column)
    if agg == 'countDistinct':
        return exp.Count(this=exp.Distinct(expressions=[column]))
    if agg in _OVER_ROWS:
        return _OVER_ROWS[agg](this=column)
    raise CubeQueryError('Distributed approximate distinct count is not supported by this DB')
