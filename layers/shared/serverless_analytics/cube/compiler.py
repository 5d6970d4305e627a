"""Normalised `Query` → SQL, built as a sqlglot AST and rendered for the engine's dialect.

Shape of a query whose measures no join multiplies (Cube's `simpleQuery`):

    SELECT <dimensions>, <time buckets>, <measures>
    FROM <root cube source> AS "root" LEFT JOIN <joined cube source> AS "cube" ON <join sql> …
         (each `events` read replaced by a scan with project_id = '<p>' AND dt BETWEEN …)
    WHERE <segments, dimension filters, date ranges> GROUP BY 1, 2 HAVING <measure filters>
    ORDER BY <ordinals> LIMIT n OFFSET m

With measures of a cube whose rows a join multiplies, or rolling-window measures, Cube's
`fullKeyQueryAggregate`: one sub-query per kind of measure, joined on the dimensions —

    SELECT q_0.<dimensions>, q_i.<measures> FROM (<regular measures>) AS q_0
    INNER JOIN (<a multiplied cube's measures over its rows de-duplicated by primary key>) AS q_1 ON <dims equal>
    INNER JOIN (<a rolling measure over a date series>) AS q_2 ON <dims equal>
    WHERE <measure filters> ORDER BY … LIMIT …
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlglot
from sqlglot import exp

from serverless_analytics.cube import rolling
from serverless_analytics.cube.datamodel import (
    LAKE_TABLE,
    MODEL_DIALECT,
    USER_SESSIONS_TABLE,
    USER_SESSIONS_VIEW,
    Cube,
    DataModel,
    Member,
)
from serverless_analytics.cube.dates import format_day, local_to_utc, parse_local, shift_clamped
from serverless_analytics.cube.dialects import to_local, truncate
from serverless_analytics.cube.filters import (
    FilterContext,
    date_bounds,
    in_local_range,
    is_date_operator,
    leaf_condition,
)
from serverless_analytics.cube.joins import Hint, JoinTree
from serverless_analytics.cube.limits import MAX_SQL_BYTES
from serverless_analytics.cube.pruning import prune_source, used_columns
from serverless_analytics.cube.query import FilterGroup, FilterLeaf, Query, TimeDimension
from serverless_analytics.cube.rolling import local_timestamp
from serverless_analytics.cube.target import Target
from serverless_analytics.cube.titles import snake_case
from serverless_analytics.cube.values import js_json
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


# The days a query of a user's history reads from the events beside the user-session index: the usage rollup, which
# writes the index, runs every 5 minutes over the days that received events, so only today's and yesterday's may be
# behind it; a late event of an older day is seen by the next run, as the insights see it (docs/cube.md).
UNINDEXED_DAYS = 1


# The name a read of `user_sessions` has until the compiler knows whether the query needs it (_fill_histories); a
# model cannot name it (datamodel._check_tables).
_HISTORY = '__user_sessions_history__'


def _history_placeholder(low: str | None, high: str | None, table: exp.Table) -> exp.Expr:
    placeholder = exp.to_table(f'"{_HISTORY}{low or ""}/{high or ""}"')
    return exp.alias_(placeholder, table.alias_or_name, table=True, copy=False)


def _aliased(select: exp.Expr, table: exp.Table) -> exp.Expr:
    return exp.alias_(exp.Subquery(this=select), table.alias_or_name, table=True, copy=False)


@cache
def _user_sessions_view_tree() -> exp.Expr:
    """Parsed once: callers copy it."""
    return sqlglot.parse_one(USER_SESSIONS_VIEW, read=MODEL_DIALECT)


def _user_sessions_view(scan: exp.Select) -> exp.Expr:
    """The user-session index's view over these events."""
    view = _user_sessions_view_tree().copy()
    for table in list(view.find_all(exp.Table)):
        table.replace(_aliased(scan.copy(), table))
    return view


def _check_granularities(time_dimensions: list[TimeDimension]) -> None:
    """The model defines no custom granularities: any other name is unknown, as Cube says."""
    for td in time_dimensions:
        if td.granularity is not None and td.granularity not in PREDEFINED_GRANULARITIES:
            raise CubeQueryError(f'Granularity "{td.granularity}" does not exist in dimension {td.dimension}')


@dataclass(frozen=True)
class _Bounds:
    """The `dt` partitions the query's date ranges allow: UTC instants, and the largest `dt_margin_days` of the
    cubes whose time dimensions set them (a range on Sessions.startAt reaches events a day beyond it)."""

    low: datetime | None = None
    high: datetime | None = None
    margin_days: int = 0


@dataclass
class _Part:
    """One sub-query of Cube's `fullKeyQueryAggregate` and the measures it computes."""

    select: exp.Select
    measures: list[Member]


class _Compiler:
    def __init__(self, query: Query, model: DataModel, project_id: str, target: Target, now: datetime):
        self.query, self.model, self.project_id, self.target = query, model, str(project_id), target
        self.ctx = FilterContext(query.timezone, now, target.dialect)
        self.time_dims: list[tuple[Member, TimeDimension]] = []
        self.segments: list[Member] = []
        self.taken_aliases: set[str] = set()
        # The sub-queries of a key aggregate read each cube through one CTE per (cube, partitions): its SQL is
        # built and rendered once, and DuckDB evaluates a derived cube (Sessions) once for all of them.
        self.shared_sources: dict[tuple[str, _Bounds], str] | None = None
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.derived_sources: list[tuple[str, exp.Select]] = []  # (cube alias, its SQL as built), to prune
        self.histories: dict[tuple[str | None, str | None], exp.Expr] = {}
        self.history_reads = 0  # placeholders put in by _source, for _fill_histories
        self._join: JoinTree | None = None

    def compile(self) -> CompiledQuery:
        q = self.query
        measures = [self._member(m, ('measure',)) for m in q.measures]
        dimensions = [self._member(d, ('dimension',)) for d in q.dimensions]
        self.time_dims = [(self._time_member(td.dimension), td) for td in q.time_dimensions]
        _check_granularities(q.time_dimensions)
        self.segments = [self._member(s, ('segment',)) for s in q.segments]
        leaves = [(leaf, self._member(leaf.member, ('dimension', 'measure'))) for leaf in _leaves(q.filters)]
        self._join = self._join_tree(measures, dimensions, leaves)
        columns = [Column(d) for d in dimensions]
        columns += [Column(m, td.granularity) for m, td in self.time_dims if td.granularity]
        group_count = len(columns)
        columns += [Column(m) for m in measures]
        aliases = [self._alias(column) for column in columns]
        select = self._select(columns, aliases, group_count)
        self._prune_sources(select)
        self._fill_histories(select)
        total_sql = self._total_sql(select) if q.total else None
        order = q.order or self._default_order(columns, self.time_dims)
        self._order_by(select, order, columns)
        select = select.limit(exp.Literal.number(q.limit), copy=False)
        if q.offset:
            select = select.offset(exp.Literal.number(q.offset), copy=False)
        sql = select.sql(dialect=self.target.dialect, copy=False)  # the last use of `select`
        for statement in (sql, total_sql):
            _check_size(statement)
        return CompiledQuery(sql, columns, order, total_sql, aliases)

    def _member(self, path: str, kinds: tuple[str, ...]) -> Member:
        return self.model.member(path, kinds)

    def _time_member(self, path: str) -> Member:
        member = self._member(path, ('dimension',))
        if member.type != 'time':
            raise CubeQueryError(f"Dimension '{path}' is not of type time and can't be used in timeDimensions")
        return member

    # --- joins -------------------------------------------------------------------------------------------

    def _join_tree(self, measures: list[Member], dimensions: list[Member], leaves) -> JoinTree:
        """Cube's `collectJoinHints`: each member's cube (a view member's join path) in Cube's order — measures,
        dimensions, segments, dimension filters, measure filters, time dimensions — then the join over them."""
        in_having = [member.kind == 'measure' and leaf.operator != 'measureFilter' for leaf, member in leaves]
        filters = [m for (_, m), having in zip(leaves, in_having, strict=True) if not having]
        filters += [m for (_, m), having in zip(leaves, in_having, strict=True) if having]
        members = [*measures, *dimensions, *self.segments, *filters, *(m for m, _ in self.time_dims)]
        view_paths = [path for name in dict.fromkeys(m.cube for m in members) for path in self._view_paths(name)]
        hints = [_enriched(member.join_hint, view_paths) for member in members]
        return self.model.join_graph.build(list(dict.fromkeys(hints)))

    def _view_paths(self, name: str) -> list[Hint]:
        cube = self.model.cubes[name]
        return cube.join_map if cube.is_view else []

    @property
    def join(self) -> JoinTree:
        assert self._join is not None, 'compile() builds the join tree before anything reads it'
        return self._join

    def _multiplied(self, member: Member) -> bool:
        return self.join.multiplied.get(member.source.cube, False)

    def _in_key_subquery(self, member: Member) -> bool:
        """Cube's multiplied measures: computed over their cube's rows de-duplicated by primary key. A count of
        rows (a distinct count of keys), a count_distinct, min and max come out the same without."""
        source = member.source
        if not self._multiplied(source) or source.rolling_window is not None:
            return False
        return source.agg_type in ('sum', 'avg', 'number') or (source.agg_type == 'count' and not source.counts_rows)

    # --- values and aliases ------------------------------------------------------------------------------

    def _value(self, member: Member) -> exp.Expression:
        source = member.source
        if source.kind == 'measure':
            if self.query.ungrouped:
                assert source.raw is not None, "every measure has its raw value (the data model's _measure sets it)"
                return source.raw.copy()
            if self._multiplied(source):
                assert source.multiplied_expr is not None, 'every measure has it (the data model sets it)'
                return source.multiplied_expr.copy()
        return source.expr.copy()

    def _column_value(self, column: Column) -> exp.Expression:
        value = self._value(column.member)
        if column.granularity:
            return truncate(to_local(value, self.query.timezone), column.granularity)
        if column.member.type == 'time' and column.member.kind == 'dimension':
            return to_local(value, self.query.timezone)  # a raw time is shown in the query's time zone too
        return value

    def _alias(self, column: Column) -> str:
        """A unique, readable SQL alias: rows are mapped by position, never by alias."""
        alias = f'{self.model.cubes[column.member.cube].alias}__{snake_case(column.member.name)}'
        alias = f'{alias}_{column.granularity}' if column.granularity else alias
        while alias in self.taken_aliases:
            alias += '_'
        self.taken_aliases.add(alias)
        return alias

    # --- sources and partitions --------------------------------------------------------------------------

    def _from_joins(self, select: exp.Select, bounds: _Bounds, root_source: exp.Expr | None = None) -> exp.Select:
        """FROM the join tree's root (or `root_source` under its alias), LEFT JOIN each joined cube ON its join
        SQL, as Cube's `joinQuery`."""
        root = self.model.cubes[self.join.root]
        select = select.from_(root_source or self._aliased_source(root, bounds), copy=False)
        for join in self.join.joins:
            target = self._aliased_source(self.model.cubes[join.target], bounds)
            select = select.join(target, on=join.condition.copy(), join_type='left', copy=False)
        return select

    def _aliased_source(self, cube: Cube, bounds: _Bounds) -> exp.Expr:
        if self.shared_sources is None:
            return exp.alias_(self._source(cube, bounds), cube.alias, quoted=True, table=True, copy=False)
        name = self.shared_sources.get((cube.name, bounds))
        if name is None:
            name = f'{cube.alias}__source{len(self.ctes) or ""}'
            self.shared_sources[(cube.name, bounds)] = name
            self.ctes.append((name, self._source(cube, bounds).this))
        return exp.alias_(exp.to_table(name), cube.alias, quoted=True, table=True, copy=False)

    def _source(self, cube: Cube, bounds: _Bounds) -> exp.Expression:
        """The cube's FROM, with every read of the lake table replaced by the project- and dt-bounded scan."""
        source = cube.source.copy()
        margin = timedelta(days=max(bounds.margin_days, cube.dt_margin_days))
        low = format_day(shift_clamped(bounds.low, -margin)) if bounds.low else None
        high = format_day(shift_clamped(bounds.high, margin)) if bounds.high else None
        scan = self.target.lake_scan(self.project_id, low, high)
        if isinstance(source, exp.Table):
            return exp.Subquery(this=scan)
        tables = [table for table in source.find_all(exp.Table) if not table.db]
        for table in tables:
            if table.name == LAKE_TABLE:
                table.replace(_aliased(scan.copy(), table))
            elif table.name == USER_SESSIONS_TABLE:
                table.replace(_history_placeholder(low, high, table))
                self.history_reads += 1
        if isinstance(source, exp.Select):
            self.derived_sources.append((cube.alias, source))
        return exp.Subquery(this=source)

    def _prune_sources(self, select: exp.Select) -> None:
        """Each derived cube's SQL without the columns and joins the query does not read (cube.pruning)."""
        if not self.derived_sources:
            return
        used = used_columns(select, {alias for alias, _ in self.derived_sources})
        for alias, source in self.derived_sources:
            prune_source(source, used[alias])

    def _fill_histories(self, select: exp.Select) -> None:
        """The user-session history where pruning left a read of it (built only where a query reads it: its read of
        the lake's index and events costs a Sessions compile about 2 ms)."""
        if not self.history_reads:
            return  # no cube of the query reads it: no walk of the query
        for table in list(select.find_all(exp.Table)):
            if table.name.startswith(_HISTORY) and not table.db:
                low, high = (bound or None for bound in table.name.removeprefix(_HISTORY).split('/'))
                table.replace(_aliased(self._history(low, high), table))

    def _history(self, low: str | None, high: str | None) -> exp.Expr:
        """`_user_sessions`, built once per query and bounds (Sessions reads it twice, each a listing of the lake)."""
        history = self.histories.get((low, high))
        if history is None:
            history = self.histories[(low, high)] = self._user_sessions(low, high)
            return history
        return history.copy()

    def _user_sessions(self, low: str | None, high: str | None) -> exp.Expr:
        """The user-session index. For a query bounded to a range: the rollup's index of the whole history, plus the
        view over the days the rollup may not have indexed yet (from yesterday, UTC, or the range's start if later:
        it runs every 5 minutes; readers take each pair's minimum, so a pair in both is the same). Otherwise, or
        without an index, as the model defines it: the view over all the project's events."""
        index = self.target.user_sessions_scan(self.project_id) if low or high else None
        if index is None:
            return _user_sessions_view(self.target.lake_scan(self.project_id, None, None))
        recent = format_day(self.ctx.now.astimezone(UTC) - timedelta(days=UNINDEXED_DAYS))
        fresh = _user_sessions_view(self.target.lake_scan(self.project_id, max(low or recent, recent), None))
        return exp.union(index, fresh, distinct=False, copy=False)

    def _bounds(self, reach=None) -> _Bounds:
        """The `dt` partitions a query needs, from the date ranges on partition-aligned time dimensions and the
        top-level date filters on them; `reach(member, td, start, end)` widens a time dimension's range (the rows
        a rolling window reaches)."""
        lows, highs, margins = [], [], [0]
        for member, td in self.time_dims:
            if member.source.dt_partition and td.date_range:
                start, end = (parse_local(bound) for bound in td.date_range)
                low, high = reach(member, td, start, end) if reach else (start, end)
                lows += [low] if low else []
                highs += [high] if high else []
                margins.append(self.model.cubes[member.source.cube].dt_margin_days)
        for item in self.query.filters:
            if isinstance(item, FilterLeaf) and is_date_operator(item.operator):
                member = self._member(item.member, ('dimension', 'measure'))
                if member.source.dt_partition:
                    self._bound_from_filter(item, lows, highs)
                    margins.append(self.model.cubes[member.source.cube].dt_margin_days)
        tz = self.query.timezone
        low = max(local_to_utc(v, tz) for v in lows) if lows else None
        high = min(local_to_utc(v, tz) for v in highs) if highs else None
        return _Bounds(low, high, max(margins) if lows or highs else 0)

    def _bound_from_filter(self, leaf: FilterLeaf, lows: list, highs: list) -> None:
        start, end = date_bounds(leaf, self.ctx)
        if leaf.operator in ('inDateRange', 'onTheDate'):
            lows.append(start)
            highs.append(end)
        elif leaf.operator in ('beforeDate', 'beforeOrOnDate'):
            highs.append(start)
        elif leaf.operator in ('afterDate', 'afterOrOnDate'):
            lows.append(start)

    # --- the query ---------------------------------------------------------------------------------------

    def _select(self, columns: list[Column], aliases: list[str], group_count: int) -> exp.Select:
        measures = [column.member for column in columns[group_count:]]
        computed = list({m.path: m for m in [*measures, *self._filter_measures()]}.values())
        special = [m for m in computed if m.source.rolling_window is not None or self._in_key_subquery(m)]
        if self.query.ungrouped or not special:
            return self._simple_select(columns, aliases, group_count)
        return self._key_aggregate(columns, aliases, group_count, computed)

    def _simple_select(self, columns: list[Column], aliases: list[str], group_count: int) -> exp.Select:
        expressions = [exp.alias_(self._column_value(c), a, copy=False) for c, a in zip(columns, aliases, strict=True)]
        select = self._from_joins(exp.Select(expressions=expressions), self._bounds())
        where = self._where()
        if where:
            select = select.where(exp.and_(*where), copy=False)
        if not self.query.ungrouped and group_count:
            select = select.group_by(*_ordinals(group_count), copy=False)
        having = self._having()
        if having:
            select = select.having(exp.and_(*having), copy=False)
        return select

    def _where(self, date_ranges: bool = True) -> list[exp.Expr]:
        conditions: list[exp.Expr] = [exp.paren(s.source.expr.copy()) for s in self.segments]
        for member, td in self.time_dims:
            if td.date_range and date_ranges:
                start, end = (parse_local(bound) for bound in td.date_range)
                conditions.append(in_local_range(self._value(member), start, end, self.ctx))
        if self.query.ungrouped and any(self._is_measure_filter(f) for f in self.query.filters):
            raise CubeQueryError("Measure filters aren't allowed in ungrouped query")
        conditions += [self._condition(f) for f in self.query.filters if not self._is_measure_filter(f)]
        return conditions

    def _having(self, measure_columns: dict[str, exp.Expression] | None = None) -> list[exp.Expr]:
        if self.query.ungrouped:
            return []
        return [self._condition(f, measure_columns) for f in self.query.filters if self._is_measure_filter(f)]

    def _filter_measures(self) -> list[Member]:
        """Measures that only measure filters name: computed in the sub-queries, compared in the outer query."""
        items = [item for item in self.query.filters if self._is_measure_filter(item)]
        members = [self._member(leaf.member, ('measure',)) for leaf in _leaves(items)]
        return [m for m in members if m.kind == 'measure']

    def _is_measure_filter(self, item) -> bool:
        kinds = {self._leaf_kind(leaf) for leaf in _leaves([item])}
        if len(kinds) > 1:
            raise CubeQueryError(f'You cannot use dimension and measure in same condition: {js_json(_echo(item))}')
        return kinds == {'measure'}

    def _leaf_kind(self, leaf: FilterLeaf) -> str:
        if leaf.operator == 'measureFilter':
            return 'dimension'
        return self._member(leaf.member, ('dimension', 'measure')).kind

    def _condition(self, item, measure_columns: dict[str, exp.Expression] | None = None) -> exp.Expr:
        if isinstance(item, FilterGroup):
            parts = [self._condition(child, measure_columns) for child in item.items]
            if not parts:
                return exp.true()
            return exp.paren(exp.and_(*parts) if item.kind == 'and' else exp.or_(*parts))
        member = self._member(item.member, ('dimension', 'measure'))
        if item.operator == 'measureFilter' and member.kind != 'measure':
            raise CubeQueryError(f"measureFilter can only be used with measures: '{item.member}'")
        if is_date_operator(item.operator) and member.type != 'time':
            # Its values are compared as timestamps, which the engine cannot do with a number or a string.
            raise CubeQueryError(f"{item.operator} can only be used with time dimensions: '{item.member}'")
        column = (measure_columns or {}).get(member.path)
        value = column.copy() if column is not None and item.operator != 'measureFilter' else self._value(member)
        return leaf_condition(item, member.source, value, self.ctx)

    # --- Cube's fullKeyQueryAggregate --------------------------------------------------------------------

    def _key_aggregate(self, columns: list[Column], aliases: list[str], group_count: int, computed) -> exp.Select:
        dims = list(zip(columns[:group_count], aliases[:group_count], strict=True))
        alias_of = {c.member.path: a for c, a in zip(columns[group_count:], aliases[group_count:], strict=True)}
        for member in computed:
            alias_of.setdefault(member.path, self._alias(Column(member)))
        self.shared_sources = {}
        parts = self._parts(dims, computed, alias_of)
        where_part = {m.path: index for index, part in enumerate(parts) for m in part.measures}
        measure_columns = {path: _q_column(alias_of[path], where_part[path]) for path in where_part}
        expressions = [exp.alias_(_q_column(alias, 0), alias, copy=False) for _, alias in dims]
        expressions += [
            exp.alias_(measure_columns[c.member.path], alias_of[c.member.path], copy=False)
            for c in columns[group_count:]
        ]
        select = exp.Select(expressions=expressions).from_(_q_subquery(parts[0].select, 0), copy=False)
        for index, part in enumerate(parts[1:], start=1):
            on = exp.and_(*[_same(alias, index) for _, alias in dims]) if dims else None
            select = select.join(
                _q_subquery(part.select, index), on=on, join_type='inner' if dims else 'cross', copy=False
            )
        for name, source in self.ctes:
            select = select.with_(name, as_=source, copy=False)
        having = self._having(measure_columns)
        return select.where(exp.and_(*having), copy=False) if having else select

    def _parts(self, dims, computed: list[Member], alias_of: dict[str, str]) -> list[_Part]:
        rolling_measures = [m for m in computed if m.source.rolling_window is not None]
        keyed = [m for m in computed if self._in_key_subquery(m)]
        special = {m.path for m in [*rolling_measures, *keyed]}
        regular = [m for m in computed if m.path not in special]
        if regular and keyed and not rolling_measures and _cubes(regular) == _cubes(keyed):
            regular, keyed = [], computed  # the same cubes: all in their keys sub-queries, as Cube does
        by_cube: dict[str, list[Member]] = {}
        for member in keyed:
            by_cube.setdefault(member.source.cube, []).append(member)
        if len(by_cube) == 1 and not rolling_measures and all(self._foldable(m) for m in [*regular, *keyed]):
            # One scan of the join instead of two: the regular measures re-aggregated from per-key partials.
            return [_Part(self._grouped_key_part(keyed[0].source.cube, dims, keyed, regular, alias_of), computed)]
        parts = [_Part(self._regular_part(dims, regular, alias_of), regular)] if regular else []
        parts += [_Part(self._key_part(cube, dims, ms, alias_of), ms) for cube, ms in by_cube.items()]
        parts += [_Part(self._rolling_part(dims, m, alias_of), [m]) for m in rolling_measures]
        return parts

    def _regular_part(self, dims, measures: list[Member], alias_of, where=None, bounds=None) -> exp.Select:
        """Cube's `regularMeasuresSubQuery`: the dimensions and measures over the joined cubes."""
        expressions = [exp.alias_(self._column_value(c), a, copy=False) for c, a in dims]
        expressions += [exp.alias_(self._value(m), alias_of[m.path], copy=False) for m in measures]
        select = self._from_joins(exp.Select(expressions=expressions), bounds or self._bounds())
        conditions = self._where() if where is None else where
        if conditions:
            select = select.where(exp.and_(*conditions), copy=False)
        return select.group_by(*_ordinals(len(dims)), copy=False) if dims else select

    def _key_part(self, cube_name: str, dims, measures: list[Member], alias_of) -> exp.Select:
        """Cube's `aggregateSubQuery`: the distinct (dimensions, primary key) of the joined rows, joined back to
        the cube's own rows, so each of its rows is aggregated once per group however many the join made."""
        cube = self.model.cubes[cube_name]
        bounds = self._bounds()
        keys = self._key_columns(cube, dims)
        key_select = exp.Select(expressions=[exp.alias_(self._column_value(c), a, copy=False) for c, a in dims])
        key_select.select(
            *[exp.alias_(pk.expr.copy(), alias, copy=False) for pk, alias in keys if alias not in dict(dims).values()],
            copy=False,
        )
        key_select = self._from_joins(key_select.distinct(copy=False), bounds)
        where = self._where()
        if where:
            key_select = key_select.where(exp.and_(*where), copy=False)
        keys_table = exp.alias_(exp.Subquery(this=key_select), 'keys', quoted=True, table=True, copy=False)
        on = exp.and_(
            *[exp.EQ(this=exp.column(a, table='keys', quoted=True), expression=pk.expr.copy()) for pk, a in keys]
        )
        expressions = [exp.alias_(exp.column(a, table='keys', quoted=True), a, copy=False) for _, a in dims]
        expressions += [exp.alias_(self._value(m), alias_of[m.path], copy=False) for m in measures]
        select = exp.Select(expressions=expressions).from_(keys_table, copy=False)
        select = select.join(self._aliased_source(cube, bounds), on=on, join_type='left', copy=False)
        return select.group_by(*_ordinals(len(dims)), copy=False) if dims else select

    def _foldable(self, member: Member) -> bool:
        """Computable in the keys sub-query grouped by (dimensions, the multiplied cube's key): a multiplied measure
        as Cube computes it, a regular one re-aggregated from its per-key partials (counts, sums, min, max)."""
        source = member.source
        if self._in_key_subquery(member):
            return True
        return not self._multiplied(source) and source.agg_type in ('count', 'sum', 'min', 'max')

    def _grouped_key_part(self, cube_name: str, dims, keyed: list[Member], regular: list[Member], alias_of):
        """Cube's keys sub-query and its regular measures in one scan of the join: grouped by the dimensions and
        the cube's primary key with the regular measures' partials, joined back to the cube's rows (one per key),
        then aggregated by the dimensions: Cube's numbers, the join computed once instead of twice."""
        cube = self.model.cubes[cube_name]
        bounds = self._bounds()
        keys = self._key_columns(cube, dims)
        dim_aliases = {alias for _, alias in dims}
        where = self._where()
        dim_values = [self._column_value(c) for c, _ in dims]
        partials = [self._value(m) for m in regular]
        root_source = None
        if cube_name != self.join.root:
            folded = self._root_partials(dims, dim_values, regular, partials, alias_of, where, bounds)
            if folded is not None:
                root_source, dim_values, partials, where = folded
        inner = [exp.alias_(value, a, copy=False) for value, (_, a) in zip(dim_values, dims, strict=True)]
        inner += [exp.alias_(pk.expr.copy(), a, copy=False) for pk, a in keys if a not in dim_aliases]
        group_count = len(inner)
        inner += [exp.alias_(value, alias_of[m.path], copy=False) for value, m in zip(partials, regular, strict=True)]
        key_select = self._from_joins(exp.Select(expressions=inner), bounds, root_source)
        if where:
            key_select = key_select.where(exp.and_(*where), copy=False)
        key_select = key_select.group_by(*_ordinals(group_count), copy=False)
        outer = [exp.alias_(_keys_column(a), a, copy=False) for _, a in dims]
        outer += [exp.alias_(self._value(m), alias_of[m.path], copy=False) for m in keyed]
        for member in regular:
            total = rolling.reaggregate(member.source, _keys_column(alias_of[member.path]))
            outer.append(exp.alias_(total, alias_of[member.path], copy=False))
        keys_table = exp.alias_(exp.Subquery(this=key_select), 'keys', quoted=True, table=True, copy=False)
        on = exp.and_(*[exp.EQ(this=_keys_column(a), expression=pk.expr.copy()) for pk, a in keys])
        select = exp.Select(expressions=outer).from_(keys_table, copy=False)
        select = select.join(self._aliased_source(cube, bounds), on=on, join_type='left', copy=False)
        return select.group_by(*_ordinals(len(dims)), copy=False) if dims else select

    def _root_partials(self, dims, dim_values, regular: list[Member], partials, alias_of, where, bounds):
        """The root cube's rows aggregated before the join: grouped by the root columns the join conditions read
        and the root's own dimensions, its filters applied, its measures' partials (count, sum, min, max) summed
        up after the join. Exact, as every row of a group joins the same rows and passes the same filters; None
        when some dimension, filter or measure reads the root and another cube at once (or an unqualified column),
        or a measure is not the root's."""
        root = self.model.cubes[self.join.root]
        name = root.alias
        if any(m.source.cube != root.name or _tables(p) - {name} for m, p in zip(regular, partials, strict=True)):
            return None
        root_dims = [_tables(value) <= {name} for value in dim_values]
        root_where = [_tables(condition) <= {name} for condition in where]
        mixed = [bool({name, ''} & _tables(value)) for value in [*dim_values, *where]]
        if any(mix and not own for mix, own in zip(mixed, [*root_dims, *root_where], strict=True)):
            return None  # read after the join, some root column it needs would be gone
        key_columns: dict[str, exp.Column] = {}
        for join in self.join.joins:
            for column in join.condition.find_all(exp.Column):
                if not column.table:
                    return None
                if column.table == name:
                    key_columns.setdefault(column.name, column)
        taken = {*key_columns, *(a for _, a in dims), *(alias_of[m.path] for m in regular)}
        if len(taken) != len(key_columns) + len(dims) + len(regular):
            return None  # a join column named as an alias: not worth telling apart
        expressions = [exp.alias_(column.copy(), key, quoted=True, copy=False) for key, column in key_columns.items()]
        expressions += [
            exp.alias_(value, a, copy=False)
            for value, (_, a), own in zip(dim_values, dims, root_dims, strict=True)
            if own
        ]
        group_count = len(expressions)
        expressions += [exp.alias_(p, alias_of[m.path], copy=False) for m, p in zip(regular, partials, strict=True)]
        select = exp.Select(expressions=expressions).from_(self._aliased_source(root, bounds), copy=False)
        conditions = [condition for condition, own in zip(where, root_where, strict=True) if own]
        if conditions:
            select = select.where(exp.and_(*conditions), copy=False)
        if group_count:
            select = select.group_by(*_ordinals(group_count), copy=False)
        source = exp.alias_(exp.Subquery(this=select), name, quoted=True, table=True, copy=False)
        dim_values = [
            exp.column(a, table=name, quoted=True) if own else value
            for value, (_, a), own in zip(dim_values, dims, root_dims, strict=True)
        ]
        partials = [
            rolling.reaggregate(m.source, exp.column(alias_of[m.path], table=name, quoted=True)) for m in regular
        ]
        return source, dim_values, partials, [c for c, own in zip(where, root_where, strict=True) if not own]

    def _key_columns(self, cube: Cube, dims) -> list[tuple[Member, str]]:
        """The cube's primary keys and their aliases in the keys sub-query (a selected key is not selected twice)."""
        selected = {c.member.path: a for c, a in dims if not c.granularity}
        return [(pk, selected.get(pk.path) or self._alias(Column(pk))) for pk in cube.primary_keys]

    # --- rolling windows ---------------------------------------------------------------------------------

    def _rolling_part(self, dims, measure: Member, alias_of) -> exp.Select:
        """Cube's `overTimeSeriesQuery` for one rolling measure."""
        window = measure.source.rolling_window
        assert window is not None
        if self._multiplied(measure.source):
            raise CubeQueryError(
                f"Rolling window measure '{measure.path}' of a cube a join multiplies is not supported"
            )
        windows = self._window_dimensions()
        reach = self._reach(window, windows)
        if not any(td.granularity for _, td in self.time_dims):
            conditions = self._window_conditions(window, windows, spans=False)
            where = [*self._where(date_ranges=False), *conditions]
            return self._regular_part(dims, [measure], alias_of, where=where, bounds=self._bounds(reach))
        return self._series_part(dims, measure, alias_of, windows, reach)

    def _window_dimensions(self) -> list[tuple[Member, TimeDimension]]:
        """Cube's `rollingWindowDateJoinCondition` dimensions: one per time dimension, the first with a
        granularity if any; each needs a date range."""
        unique: dict[str, tuple[Member, TimeDimension]] = {}
        for member, td in self.time_dims:
            if td.dimension not in unique or (td.granularity and not unique[td.dimension][1].granularity):
                unique[td.dimension] = (member, td)
        if len(unique) > 1:
            raise CubeQueryError('Rolling window measures with several time dimensions are not supported')
        for _, td in unique.values():
            if not td.date_range:
                raise CubeQueryError("Time series queries without dateRange aren't supported")
        return list(unique.values())

    def _series_of(self, td: TimeDimension) -> list[tuple[datetime, datetime]]:
        """The time dimension's date series in the query's zone (`timeSeries`): its range alone without a
        granularity."""
        assert td.date_range is not None
        start, end = (parse_local(bound) for bound in td.date_range)
        return rolling.time_series(td.granularity, start, end) if td.granularity else [(start, end)]

    def _reach(self, window, windows):
        series = {td.dimension: self._series_of(td) for _, td in windows}

        def reach(member, td, start, end):
            periods = series.get(td.dimension)
            return rolling.reach(window, periods[0][0], periods[-1][1]) if periods else (start, end)

        return reach

    def _window_conditions(self, window, windows, spans: bool) -> list[exp.Expr]:
        """Each window dimension's rows within the window of its series (its range without a granularity)."""
        conditions = []
        for member, td in windows:
            periods = self._series_of(td)
            low, high = local_timestamp(periods[0][0]), local_timestamp(periods[-1][1])
            field = to_local(self._value(member), self.query.timezone)
            conditions.append(rolling.window_condition(window, low, high, field, spans=spans))
        return conditions

    def _series_part(self, dims, measure: Member, alias_of, windows, reach) -> exp.Select:
        window = measure.source.rolling_window
        assert window is not None
        granular = [(m, td) for m, td in self.time_dims if td.granularity]
        if len({td.date_range for _, td in granular}) > 1:
            raise CubeQueryError("Can't build query for time dimensions with different date ranges")
        series_td, series_granularity = _series_dimension([td for _, td in granular])
        ungroup = not rolling.is_additive(measure.source)
        granularity = (
            None if ungroup else rolling.min_granularity(rolling.window_granularity(window), series_granularity)
        )
        base = self._rolling_base(dims, measure, alias_of, windows, ungroup, granularity, reach)
        series_alias = f'{series_td.dimension}_series'
        date_from, date_to = (exp.column(c, table=series_alias, quoted=True) for c in ('date_from', 'date_to'))
        expressions = []
        for column, alias in dims:
            if column.granularity:
                bucket: exp.Expression = date_from.copy()
                if column.granularity != series_td.granularity:
                    bucket = truncate(bucket, column.granularity)
                expressions.append(exp.alias_(bucket, alias, copy=False))
            else:
                expressions.append(exp.alias_(exp.column(alias, table='base', quoted=True), alias, copy=False))
        value = rolling.reaggregate(measure.source, exp.column(alias_of[measure.path], table='base', quoted=True))
        expressions.append(exp.alias_(value, alias_of[measure.path], copy=False))
        series = exp.alias_(
            rolling.series_values(self._series_of(series_td), self.target.dialect),
            series_alias,
            quoted=True,
            table=True,
            copy=False,
        )
        on = exp.and_(
            *[
                rolling.window_condition(
                    window,
                    date_from,
                    date_to,
                    exp.column(self._td_alias(td, dims), table='base', quoted=True),
                    spans=False,
                )
                for _, td in windows
            ]
        )
        select = exp.Select(expressions=expressions).from_(series, copy=False)
        select = select.join(
            exp.alias_(exp.Subquery(this=base), 'base', quoted=True, table=True, copy=False),
            on=on,
            join_type='left',
            copy=False,
        )
        return select.group_by(*_ordinals(len(dims)), copy=False) if dims else select

    def _td_alias(self, td: TimeDimension, dims) -> str:
        return next(
            a for c, a in dims if c.granularity and c.member.path == td.dimension and c.granularity == td.granularity
        )

    def _rolling_base(self, dims, measure: Member, alias_of, windows, ungroup: bool, granularity, reach) -> exp.Select:
        """The rows the windows reach: grouped by the dimensions and the finest of the window's and the series'
        granularities for an additive measure, else one row per joined row with the measure's raw value."""
        window = measure.source.rolling_window
        expressions = []
        for column, alias in dims:
            value = self._column_value(column)
            if column.granularity:
                local = to_local(self._value(column.member), self.query.timezone)
                value = local if ungroup else truncate(local, granularity or column.granularity)
            expressions.append(exp.alias_(value, alias, copy=False))
        value = (
            measure.source.row_value.copy()
            if ungroup and measure.source.row_value is not None
            else self._value(measure)
        )
        expressions.append(exp.alias_(value, alias_of[measure.path], copy=False))
        select = self._from_joins(exp.Select(expressions=expressions), self._bounds(reach))
        where = [
            *self._where(date_ranges=False),
            *self._window_conditions(window, windows, spans=True),
        ]
        if where:
            select = select.where(exp.and_(*where), copy=False)
        return select.group_by(*_ordinals(len(dims)), copy=False) if dims and not ungroup else select

    # --- order and total ---------------------------------------------------------------------------------

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
        total = exp.select(exp.alias_(exp.Count(this=exp.Star()), 'total_count', copy=False)).from_(inner, copy=False)
        return total.sql(dialect=self.target.dialect)


def _enriched(hint: Hint, view_paths: list[Hint]) -> Hint:
    """Cube's `enrichHintsWithJoinMap`: a lone cube of a queried view's join path joins along that path."""
    if len(hint) > 1:
        return hint
    for path in view_paths:
        if hint[0] in path:
            return path[: path.index(hint[0]) + 1]
    return hint


def _tables(expression: exp.Expression) -> set[str]:
    """The tables an expression's columns name (an unqualified column names the empty table)."""
    return {column.table for column in expression.find_all(exp.Column)}


def _keys_column(alias: str) -> exp.Expression:
    return exp.column(alias, table='keys', quoted=True)


def _cubes(measures: list[Member]) -> list[str]:
    return sorted({m.source.cube for m in measures})


def _series_dimension(granular: list[TimeDimension]) -> tuple[TimeDimension, str]:
    """Cube's choice of the series: the time dimension of the finest granularity (the first of equals)."""
    chosen, granularity = granular[0], granular[0].granularity
    for td in granular[1:]:
        finest = rolling.min_granularity(granularity, td.granularity)
        if finest == td.granularity:
            chosen = td
        granularity = finest
    assert granularity is not None
    return chosen, granularity


def _ordinals(count: int) -> list[exp.Expression]:
    return [exp.Literal.number(i + 1) for i in range(count)]


def _q_column(alias: str, index: int) -> exp.Expression:
    return exp.column(alias, table=f'q_{index}', quoted=True)


def _q_subquery(select: exp.Select, index: int) -> exp.Expr:
    return exp.alias_(exp.Subquery(this=select), f'q_{index}', table=True, quoted=True, copy=False)


def _same(alias: str, index: int) -> exp.Expr:
    """Cube's `dimensionsJoinCondition`: equal, or both NULL."""
    left, right = _q_column(alias, index - 1), _q_column(alias, index)
    both_null = exp.and_(left.copy().is_(exp.null()), right.copy().is_(exp.null()))
    return exp.paren(exp.or_(exp.EQ(this=left, expression=right), both_null))


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


def _echo(item: FilterLeaf | FilterGroup) -> dict:
    """A filter as the query echoes it (and Cube quotes it in messages)."""
    if isinstance(item, FilterGroup):
        return {item.kind: [_echo(child) for child in item.items]}
    leaf = {'member': item.member, 'operator': item.operator}
    return leaf if item.values is None else {**leaf, 'values': list(item.values)}
