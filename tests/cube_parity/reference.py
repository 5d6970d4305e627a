"""Cube with one of its bugs fixed: Cube's own SQL for a query (as the oracle reports it), changed only where Cube is
wrong, run on DuckDB over the same `events` view Cube reads. A deliberate difference is checked against it: the
product must answer exactly what Cube would answer without the bug.

- LIKE: Cube escapes `%`, `_` and `\\` in a filter value with a backslash but sends no `ESCAPE` clause, and DuckDB's
  LIKE has no default escape character, so `contains "_"` looks for a backslash. Fixed: `ESCAPE '\\'` added.
- DST: Cube turns a local time of the query's time zone into UTC with the zone's offset at the instant that has the
  local time's digits in UTC, not at the local time itself; within a few hours of a DST change that is the other
  offset. Fixed: the bound recomputed with the offset of the local time (the earlier one where a time repeats, and
  for a time skipped by the change, the offset before it, as Python's zoneinfo reads a wall time: fold=0).
"""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from tests.cube_parity.compare import Result, _value, rows_of

_LIKE_PATTERN = re.compile(r"(I?LIKE) ((?:'%' \|\| )?\?(?: \|\| '%')?)")


class CubeSql:
    """DuckDB over the `events` view Cube reads (the same `--table-sql`)."""

    def __init__(self, table_sql: str):
        self.connection = duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")
        self.connection.execute(table_sql)

    def run(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            return columns, cursor.fetchall()
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def with_like_escape(sql: str) -> str:
    """Cube's SQL with `ESCAPE '\\'` after every LIKE / ILIKE pattern it builds from a parameter."""
    fixed, count = _LIKE_PATTERN.subn(lambda m: f"{m.group(1)} ({m.group(2)}) ESCAPE '\\'", sql)
    if not count:
        raise ValueError("no LIKE pattern built from a parameter in Cube's SQL")
    return fixed


def cube_local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """What Cube makes of a wall time: the zone's offset taken at the UTC instant with the same digits."""
    offset = local.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)
    return local - offset


def true_local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def dst_fixed_params(params: list[Any], timezone: str, range_values: list[str], filter_values: list[str]) -> list[Any]:
    """Cube's parameters with every bound it converted from a wall time of the query replaced by the right instant.

    Range bounds (Cube's resolved `dateRange`) are converted as they are. Filter values are first read by
    moment-timezone, which moves a wall time skipped by a spring change forward by the gap, and turns a value with
    `Z` or an offset into the wall time of that instant in the query's zone; then converted like range bounds.
    """
    zone = ZoneInfo(timezone)
    right: dict[str, str] = {}
    for values, normalise in ((range_values, False), (filter_values, True)):
        for value in values:
            for local, instant in _wall_times(value, zone):
                read = _moment_read(local, zone) if normalise else local
                right[utc_param(cube_local_to_utc(read, zone))] = utc_param(instant)
    return [right.get(p, p) if isinstance(p, str) else p for p in params]


def _wall_times(value: str, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """A value's wall times in `zone` with the instants they mean (naive UTC): the value itself, or for a bare date
    its first and last millisecond (a filter's start or end); a value with an offset is the instant it names."""
    try:
        local = datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        return []
    if local.tzinfo is not None:
        instant = local.astimezone(UTC)
        return [(instant.astimezone(zone).replace(tzinfo=None), instant.replace(tzinfo=None))]
    if len(value) == 10:
        local_times = [local, local.replace(hour=23, minute=59, second=59, microsecond=999000)]
    else:
        local_times = [local]
    return [(t, true_local_to_utc(t, zone)) for t in local_times]


def _moment_read(local: datetime, zone: ZoneInfo) -> datetime:
    """moment.tz(text, zone): a wall time skipped by a DST change moves forward by the gap."""
    return local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def utc_param(utc: datetime) -> str:
    return utc.strftime('%Y-%m-%dT%H:%M:%S.') + f'{utc.microsecond // 1000:03d}Z'


def local_times_near_dst(values: list[str], timezone: str) -> list[str]:
    """The values (ISO wall times, or instants with `Z` / an offset, read in `timezone`) within a day of a DST change
    of `timezone`."""
    zone = ZoneInfo(timezone)
    near = []
    for value in values:
        for local, _ in _wall_times(value, zone):
            before, after = ((local + timedelta(days=d)).replace(tzinfo=zone).utcoffset() for d in (-1, 1))
            if before != after:
                near.append(value)
                break
    return near


# -- rows ------------------------------------------------------------------------------------------------------------


def _cube_value(value: Any) -> Any:
    """A DuckDB value as Cube's DuckDB driver and result transform render it."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime):
        return value.strftime('%Y-%m-%dT%H:%M:%S.') + f'{value.microsecond // 1000:03d}'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value.normalize(), 'f')
        return text
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _squash(name: str) -> str:
    return re.sub(r'[^a-z0-9]', '', name.lower())


def reference_rows(cube_sql: CubeSql, sql: str, params: list[Any], result: Result) -> tuple[list[str], Counter]:
    """Run (fixed) Cube SQL; its rows keyed by member, as a multiset of `_value`-normalised tuples."""
    columns, rows = cube_sql.run(sql, params)
    members = _members_of(result.query)
    by_alias = {_squash(m): m for m in members}
    names = []
    for column in columns:
        member = by_alias.get(_squash(column))
        if member is None:
            raise ValueError(f"no member for column {column!r} of Cube's SQL")
        names.append(member)
    return names, Counter(tuple(repr(_value(_cube_value(v))) for v in row) for row in rows)


def projected_rows(result: Result, names: list[str]) -> Counter:
    return Counter(tuple(repr(_value(row.get(n))) for n in names) for row in rows_of(result.data))


def _members_of(query: dict) -> list[str]:
    members = list(query.get('measures') or []) + list(query.get('dimensions') or [])
    for td in query.get('timeDimensions') or []:
        members.append(f'{td["dimension"]}.{td["granularity"]}' if td.get('granularity') else td['dimension'])
    return members
