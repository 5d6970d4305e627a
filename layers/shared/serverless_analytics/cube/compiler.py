"""Normalised `Query` → SQL, built as a sqlglot AST and rendered for the engine's dialect.

Shape of every query (one cube; joins are not supported):

    SELECT <dimensions>, <time buckets>, <measures>
    FROM <cube source, each `events` read replaced by a scan with project_id = '<p>' AND dt BETWEEN …> AS "cube"
    WHERE <segments, dimension filters, date ranges> GROUP BY 1, 2 HAVING <measure filters>
    ORDER BY <ordinals> LIMIT n OFFSET m
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlglot import exp

from serverless_analytics.cube.datamodel import LAKE_TABLE, Cube, DataModel, Member
from serverless_analytics.cube.dates import format_day, local_to_utc, parse_local, shift_clamped
from serverless_analytics.cube.dialects import to_local, truncate
from serverless_analytics.cube.filters import (
    FilterContext,
    date_bounds,
    in_local_range,
    is_date_operator,
    leaf_condition,
)
from serverless_analytics.cube.limits import MAX_SQL_BYTES
from serverless_analytics.cube.query import FilterGroup, FilterLeaf, Query, TimeDimension
from serverless_analytics.cube.target import Target
from serverless_analytics.cube.titles import snake_case
from serverless_analytics.models.errors import CubeQueryError

# Finest first, as Cube ranks them.
GRANULARITY_LEVELS = {'second': 1, 'minute': 2, 'hour': 3, 'day': 4, 'week': 5, 'month': 6, 'quarter': 7, 'year': 8}
PREDEFINED_GRANULARITIES = frozenset(GRANULARITY_LEVELS)


@dataclass(frozen=True)
class Column:
    """One selected column: `member` with its `granularity` (time buckets) or None."""

    member: Member
    granularity: str | None = None

    @property
    def key(self) -> str:
        return f'{self.member.path}.{self.granularity}' if self.granularity else self.member.path

    def keys(self, query: Query) -> list[str]:
        """Where the column shows in rows and annotations: its key, and for the finest bucket of a time dimension
        also the deprecated bare `Cube.td` key, unless the query asks for that member as a plain dimension too."""
        if self.granularity and self.member.path not in query.dimensions and self._finest_of(query):
            return [self.key, self.member.path]
        return [self.key]

    def _finest_of(self, query: Query) -> bool:
        same = [td.granularity for td in query.time_dimensions if td.dimension == self.member.path and td.granularity]
        return min(same, key=GRANULARITY_LEVELS.__getitem__) == self.granularity


@dataclass
class CompiledQuery:
    sql: str
    columns: list[Column]
    order: list[tuple[str, bool]]
    total_sql: str | None = None
    aliases: list[str] = field(default_factory=list)  # the SQL alias of each column, in order


def compile_query(query: Query, model: DataModel, project_id: str, target: Target, now: datetime) -> CompiledQuery:
    return _Compiler(query, model, project_id, target, now).compile()


def _check_granularities(time_dimensions: list[TimeDimension]) -> None:
    """The model defines no custom granularities: any other name is unknown, as Cube says."""
    for td in time_dimensions:
        if td.granularity is not None and td.granularity not in PREDEFINED_GRANULARITIES:
            raise CubeQueryError(f'Granularity "{td.granularity}" does not exist in dimension {td.dimension}')


class _Compiler:
    def __init__(self, query: Query, model: DataModel, project_id: str, target: Target, now: datetime):
        self.query, self.model, self.project_id, self.target = query, model, str(project_id), target
        self.ctx = FilterContext(query.timezone, now, target.dialect)
        self._single_cube: Cube | None = None

    def compile(self) -> CompiledQuery:
        q = self.query
        measures = [self._member(m, ('measure',)) for m in q.measures]
        dimensions = [self._member(d, ('dimension',)) for d in q.dimensions]
        time_dims = [(self._time_member(td.dimension), td) for td in q.time_dimensions]
        _check_granularities(q.time_dimensions)
        segments = [self._member(s, ('segment',)) for s in q.segments]
        filter_members = [self._member(leaf.member, ('dimension', 'measure')) for leaf in _leaves(q.filters)]
        self._check_single_cube([*measures, *dimensions, *[m for m, _ in time_dims], *segments, *filter_members])
        columns = [Column(d) for d in dimensions]
        columns += [Column(m, td.granularity) for m, td in time_dims if td.granularity]
        group_count = len(columns)
        columns += [Column(m) for m in measures]
        aliases: dict[str, None] = {}  # ordered: one per column
        select = exp.Select(expressions=[self._select_expr(c, aliases) for c in columns])
        dt_range = self._dt_range(time_dims)
        select = select.from_(exp.alias_(self._source(dt_range), self.cube.alias, quoted=True, table=True))
        where = self._where(time_dims, segments)
        if where:
            select = select.where(exp.and_(*where), copy=False)
        if not q.ungrouped and group_count:
            select = select.group_by(*[exp.Literal.number(i + 1) for i in range(group_count)], copy=False)
        having = self._having()
        if having:
            select = select.having(exp.and_(*having), copy=False)
        total_sql = self._total_sql(select) if q.total else None
        order = q.order or self._default_order(columns, time_dims)
        self._order_by(select, order, columns)
        select = select.limit(exp.Literal.number(q.limit), copy=False)
        if q.offset:
            select = select.offset(exp.Literal.number(q.offset), copy=False)
        sql = select.sql(dialect=self.target.dialect)
        for statement in (sql, total_sql):
            _check_size(statement)
        return CompiledQuery(sql, columns, order, total_sql, list(aliases))

    def _member(self, path: str, kinds: tuple[str, ...]) -> Member:
        return self.model.member(path, kinds)

    def _time_member(self, path: str) -> Member:
        member = self._member(path, ('dimension',))
        if member.type != 'time':
            raise CubeQueryError(f"Dimension '{path}' is not of type time and can't be used in timeDimensions")
        return member

    def _check_single_cube(self, members: list[Member]) -> None:
        cubes = list(dict.fromkeys(m.cube for m in members))
        if len(cubes) > 1:
            raise CubeQueryError(f"Can't find join path to join {', '.join(repr(c) for c in cubes)}")
        self._single_cube = self.model.cubes[cubes[0]]

    @property
    def cube(self) -> Cube:
        """The query's one cube."""
        assert self._single_cube is not None, 'compile() checks the members are of one cube before anything reads it'
        return self._single_cube

    def _value(self, member: Member) -> exp.Expression:
        if member.kind == 'measure' and self.query.ungrouped:
            assert member.raw is not None, "every measure has its raw value (the data model's _measure sets it)"
            return member.raw.copy()
        return member.expr.copy()

    def _select_expr(self, column: Column, aliases: dict[str, None]) -> exp.Expr:
        value = self._value(column.member)
        if column.granularity:
            value = truncate(to_local(value, self.query.timezone), column.granularity)
        elif column.member.type == 'time' and column.member.kind == 'dimension':
            value = to_local(value, self.query.timezone)  # a raw time is shown in the query's time zone too
        alias = f'{self.cube.alias}__{snake_case(column.member.name)}'
        alias = f'{alias}_{column.granularity}' if column.granularity else alias
        while alias in aliases:  # rows are mapped by position, aliases only need to be unique and readable
            alias += '_'
        aliases[alias] = None
        return exp.alias_(value, alias)

    def _source(self, dt_range: tuple[str | None, str | None]) -> exp.Expression:
        """The cube's FROM, with every read of the lake table replaced by the project- and dt-bounded scan."""
        source = self.cube.source.copy()
        scan = self.target.lake_scan(self.project_id, *dt_range)
        if isinstance(source, exp.Table):
            return exp.Subquery(this=scan)
        for table in list(source.find_all(exp.Table)):
            if table.name == LAKE_TABLE and not table.db:
                table.replace(exp.alias_(exp.Subquery(this=scan.copy()), table.alias_or_name, table=True))
        return exp.Subquery(this=source)

    def _dt_range(self, time_dims) -> tuple[str | None, str | None]:
        """The `dt` partitions a query needs, from the date ranges on partition-aligned time dimensions."""
        lows, highs = [], []
        for member, td in time_dims:
            if member.dt_partition and td.date_range:
                lows.append(parse_local(td.date_range[0]))
                highs.append(parse_local(td.date_range[1]))
        for item in self.query.filters:
            if isinstance(item, FilterLeaf) and is_date_operator(item.operator):
                member = self._member(item.member, ('dimension', 'measure'))
                if member.dt_partition:
                    self._bound_from_filter(item, lows, highs)
        if not lows and not highs:
            return None, None
        margin = timedelta(days=self.cube.dt_margin_days)
        low = shift_clamped(max(local_to_utc(v, self.query.timezone) for v in lows), -margin) if lows else None
        high = shift_clamped(min(local_to_utc(v, self.query.timezone) for v in highs), margin) if highs else None
        return (format_day(low) if low else None, format_day(high) if high else None)

    def _bound_from_filter(self, leaf: FilterLeaf, lows: list, highs: list) -> None:
        start, end = date_bounds(leaf, self.ctx)
        if leaf.operator in ('inDateRange', 'onTheDate'):
            lows.append(start)
            highs.append(end)
        elif leaf.operator in ('beforeDate', 'beforeOrOnDate'):
            highs.append(start)
        elif leaf.operator in ('afterDate', 'afterOrOnDate'):
            lows.append(start)

    def _where(self, time_dims, segments: list[Member]) -> list[exp.Expr]:
        conditions: list[exp.Expr] = [exp.paren(s.expr.copy()) for s in segments]
        for member, td in time_dims:
            if td.date_range:
                start, end = (parse_local(bound) for bound in td.date_range)
                conditions.append(in_local_range(self._value(member), start, end, self.ctx))
        if self.query.ungrouped and any(self._is_measure_filter(f) for f in self.query.filters):
            raise CubeQueryError("Measure filters aren't allowed in ungrouped query")
        conditions += [self._condition(f) for f in self.query.filters if not self._is_measure_filter(f)]
        return conditions

    def _having(self) -> list[exp.Expr]:
        if self.query.ungrouped:
            return []
        return [self._condition(f) for f in self.query.filters if self._is_measure_filter(f)]

    def _is_measure_filter(self, item) -> bool:
        kinds = {self._leaf_kind(leaf) for leaf in _leaves([item])}
        if len(kinds) > 1:
            raise CubeQueryError("You can't mix dimension and measure filters in the same logical operator")
        return kinds == {'measure'}

    def _leaf_kind(self, leaf: FilterLeaf) -> str:
        if leaf.operator == 'measureFilter':
            return 'dimension'
        return self._member(leaf.member, ('dimension', 'measure')).kind

    def _condition(self, item) -> exp.Expr:
        if isinstance(item, FilterGroup):
            parts = [self._condition(child) for child in item.items]
            if not parts:
                return exp.true()
            return exp.paren(exp.and_(*parts) if item.kind == 'and' else exp.or_(*parts))
        member = self._member(item.member, ('dimension', 'measure'))
        if item.operator == 'measureFilter' and member.kind != 'measure':
            raise CubeQueryError(f"measureFilter can only be used with measures: '{item.member}'")
        if is_date_operator(item.operator) and member.type != 'time':
            # Its values are compared as timestamps, which the engine cannot do with a number or a string.
            raise CubeQueryError(f"{item.operator} can only be used with time dimensions: '{item.member}'")
        return leaf_condition(item, member, self._value(member), self.ctx)

    def _default_order(self, columns: list[Column], time_dims) -> list[tuple[str, bool]]:
        """Cube's `defaultOrder()`: time bucket asc, else first measure desc (with dimensions), else dimension asc."""
        granular = [td for _, td in time_dims if td.granularity]
        if granular:
            return [(granular[0].dimension, False)]
        if self.query.measures and self.query.dimensions:
            return [(self.query.measures[0], True)]
        if self.query.dimensions:
            return [(self.query.dimensions[0], False)]
        return []

    def _order_by(self, select: exp.Select, order: list[tuple[str, bool]], columns: list[Column]) -> None:
        """ORDER BY select ordinals; members not selected are dropped, as Cube's `orderHashToString` does."""
        for member_id, desc in order:
            index = _column_index(member_id, columns)
            if index is not None:
                select.order_by(
                    exp.Ordered(this=exp.Literal.number(index + 1), desc=desc, nulls_first=False),
                    append=True,
                    copy=False,
                )

    def _total_sql(self, select: exp.Select) -> str:
        inner = exp.Subquery(this=select.copy(), alias=exp.TableAlias(this=exp.to_identifier('original_query')))
        total = exp.select(exp.alias_(exp.Count(this=exp.Star()), 'total_count')).from_(inner, copy=False)
        return total.sql(dialect=self.target.dialect)


def _check_size(sql: str | None) -> None:
    size = len(sql.encode()) if sql else 0
    if size > MAX_SQL_BYTES:
        raise CubeQueryError(f'Query is too large: its SQL has {size} bytes; the maximum is {MAX_SQL_BYTES}')


def _column_index(member_id: str, columns: list[Column]) -> int | None:
    for index, column in enumerate(columns):
        if column.key == member_id:
            return index
    buckets = [(index, column) for index, column in enumerate(columns) if column.granularity]
    finest = _finest([column for _, column in buckets if column.member.path == member_id])
    return next((index for index, column in buckets if column is finest), None)


def _finest(buckets: list[Column]) -> Column | None:
    """Of one time dimension's buckets, the finest (the first of equals): the one Cube orders a bare `Cube.td`
    by and shows under the deprecated bare key."""
    return min(buckets, key=lambda column: GRANULARITY_LEVELS[column.granularity or ''], default=None)


def _leaves(filters):
    for item in filters:
        if isinstance(item, FilterGroup):
            yield from _leaves(item.items)
        else:
            yield item
