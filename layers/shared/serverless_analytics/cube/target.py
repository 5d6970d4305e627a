"""Where a compiled query runs: the engine's dialect and its lake source, and the tenant-bounded scan of it.

Apart from the compiler so that the export routes, which build their own SQL on the same scan, load sqlglot
but not the Cube model, query and filter modules.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from serverless_analytics.engines import QueryEngine


PartitionSource = Callable[[str, str | None, str | None], str | None]
ProjectSource = Callable[[str], str | None]


@dataclass(frozen=True)
class Target:
    """Where and how to run: the engine's dialect and the lake scan expression (a table or a table function), the
    engine's cheaper scan of a project's partitions where it has one (`QueryEngine.partition_source`), and its scan
    of a project's user-session index (`QueryEngine.user_sessions_source`)."""

    dialect: str
    lake_source: str
    partition_source: PartitionSource | None = field(default=None, compare=False)
    user_sessions_source: ProjectSource | None = field(default=None, compare=False)

    @classmethod
    def of(cls, engine: 'QueryEngine') -> 'Target':
        return cls(engine.dialect, engine.lake_source, engine.partition_source, engine.user_sessions_source)

    def source_expression(self) -> exp.Expression:
        return _parse_source(self.lake_source, self.dialect)

    def lake_scan(self, project_id: str, dt_low: str | None, dt_high: str | None) -> exp.Select:
        """`SELECT * FROM <lake>` of one project's rows in the `dt` partitions [dt_low, dt_high]: the tenant
        predicate and partition bounds every read of the lake carries (DESIGN §4)."""
        conditions: list[exp.Expression] = [_in_project(project_id)]
        if dt_low:
            conditions.append(exp.GTE(this=exp.column('dt'), expression=exp.Literal.string(dt_low)))
        if dt_high:
            conditions.append(exp.LTE(this=exp.column('dt'), expression=exp.Literal.string(dt_high)))
        partitions = self.partition_source(project_id, dt_low, dt_high) if self.partition_source else None
        source = _parse_partitions(partitions, self.dialect) if partitions else self.source_expression()
        return exp.select(exp.Star()).from_(source.copy(), copy=False).where(exp.and_(*conditions), copy=False)

    def user_sessions_scan(self, project_id: str) -> exp.Select | None:
        """The project's user-session index (session_id, user_id, first_at), None where the engine has none."""
        source = self.user_sessions_source(project_id) if self.user_sessions_source else None
        if source is None:
            return None
        columns = [exp.column(name) for name in ('session_id', 'user_id', 'first_at')]
        scan = exp.select(*columns).from_(_parse_partitions(source, self.dialect).copy(), copy=False)
        return scan.where(_in_project(project_id), copy=False)


def _in_project(project_id: str) -> exp.Expression:
    """The tenant predicate, the project id a bound literal."""
    return exp.EQ(this=exp.column('project_id'), expression=exp.Literal.string(project_id))


@cache
def _parse_source(source: str, dialect: str) -> exp.Expression:
    """Parsed once per source: callers copy it."""
    return sqlglot.parse_one(f'SELECT * FROM {source}', read=dialect).args['from_'].this


@lru_cache(maxsize=256)
def _parse_partitions(source: str, dialect: str) -> exp.Expression:
    """A partition scan, parsed once while in use (bounded: each date range is another)."""
    return _parse_source.__wrapped__(source, dialect)
