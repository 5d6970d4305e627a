"""The few SQL shapes that differ between the engines' dialects, built as sqlglot expressions.

The lake stores UTC instants: DuckDB reads them as TIMESTAMPTZ, Athena (Trino) as naive `timestamp` in UTC.
"""

from datetime import datetime

from sqlglot import exp

from serverless_analytics.cube.dates import format_local


def timestamp_literal(utc: datetime, dialect: str) -> exp.Expression:
    """A UTC instant (naive) to compare with a lake time column."""
    text = format_local(utc).replace('T', ' ')
    if dialect == 'duckdb':
        return exp.cast(exp.Literal.string(text + '+00'), exp.DataType.Type.TIMESTAMPTZ)
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMP)


def to_local(column: exp.Expression, timezone: str) -> exp.Expression:
    """Wall-clock time of `timezone` (naive): `CAST(col AT TIME ZONE tz AS TIMESTAMP)` / `at_timezone` in Trino."""
    shifted = exp.AtTimeZone(this=column, zone=exp.Literal.string(timezone))
    return exp.cast(shifted, exp.DataType.Type.TIMESTAMP)


def truncate(local: exp.Expression, granularity: str) -> exp.Expression:
    """`date_trunc(unit, ts)`; both engines start weeks on Monday, as Cube does."""
    return exp.Anonymous(this='date_trunc', expressions=[exp.Literal.string(granularity), local])


def as_text(column: exp.Expression) -> exp.Expression:
    return exp.cast(column, exp.DataType.Type.VARCHAR)
