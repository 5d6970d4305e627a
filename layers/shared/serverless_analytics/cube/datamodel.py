"""Cube data model: YAML files in Cube's own format (`cubes:`, `views:`), validated and compiled to sqlglot
expressions.

Member SQL is parsed once, at load time, in `MODEL_DIALECT`; `{CUBE}`, `{member}` and `{CUBE.member}`
references are resolved into the expressions of the members they name, and a join's `{OtherCube}` /
`{OtherCube.member}` into the other cube's alias and members. Every table a cube reads must be the lake table
(`events`): the compiler swaps each such table for a scan that carries the project predicate, so no cube can
ever read another project's rows.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from serverless_analytics.cube.titles import humanize, snake_case
from serverless_analytics.models.errors import CubeModelError, CubeQueryError

MODEL_DIR = Path(__file__).parent / 'model'
MODEL_DIALECT = 'trino'
LAKE_TABLE = 'events'
# The user-session index the usage rollup keeps (logic.user_sessions), by definition this view over all of a
# project's events, in the model's dialect: the compiler reads the index files plus this view over a range's events
# (cube.compiler), the Cube copy of the model (local.cube_model) the view over all events.
USER_SESSIONS_TABLE = 'user_sessions'
USER_SESSIONS_VIEW = (
    'SELECT session_id, user_id, min(timestamp) AS first_at FROM events '
    'WHERE session_id IS NOT NULL OR user_id IS NOT NULL GROUP BY session_id, user_id'
)
MODEL_TABLES = (LAKE_TABLE, USER_SESSIONS_TABLE)
_REFERENCE = re.compile(r'\$?\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\}')
_NAME = r'^[A-Za-z_][A-Za-z0-9_]*$'
_TABLE_PLACEHOLDER = '__table{}__'
_INTERVAL = r'^-?\d+ (minute|hour|day|week|month|quarter|year)s?$|^unbounded$'
MeasureType = Literal['count', 'count_distinct', 'count_distinct_approx', 'sum', 'avg', 'min', 'max', 'number']
AGG_TYPES = {'count_distinct': 'countDistinct', 'count_distinct_approx': 'countDistinctApprox'}
# Cube's relationship names, and the one each stands for (CubeEvaluator); only belongsTo and hasMany multiply rows.
RELATIONSHIPS = {
    **dict.fromkeys(('belongsTo', 'belongs_to', 'many_to_one', 'manyToOne'), 'belongsTo'),
    **dict.fromkeys(('hasMany', 'has_many', 'one_to_many', 'oneToMany'), 'hasMany'),
    **dict.fromkeys(('hasOne', 'has_one', 'one_to_one', 'oneToOne'), 'hasOne'),
}
# JoinGraph's getMultipliedMeasures: a cube with any of these needs a primary key to be joined.
_KEYED_MEASURE_TYPES = frozenset({'sum', 'avg', 'count', 'number'})


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)


class MeasureFilterDef(_Strict):
    sql: str


class _Definition(_Strict):
    """What cubes, measures, dimensions and segments all have."""

    name: str = Field(pattern=_NAME)
    title: str | None = None
    description: str | None = None
    shown: bool | None = None
    public: bool | None = None
    meta: dict | None = None

    def visible(self, default: bool = True) -> bool:
        """Cube's `public`, or its older name `shown`, or the default."""
        if self.public is not None:
            return self.public
        return self.shown if self.shown is not None else default


class RollingWindowDef(_Strict):
    """Cube's `rolling_window`: a fixed window (`trailing`/`leading` intervals or `unbounded`, `offset`) or a
    to-date window (`type: to_date` with `granularity`, or the older `year_to_date`…)."""

    type: Literal['fixed', 'to_date', 'year_to_date', 'quarter_to_date', 'month_to_date'] | None = None
    trailing: str | None = Field(default=None, pattern=_INTERVAL)
    leading: str | None = Field(default=None, pattern=_INTERVAL)
    offset: Literal['start', 'end'] | None = None
    granularity: Literal['hour', 'day', 'week', 'month', 'quarter', 'year'] | None = None


class MeasureDef(_Definition):
    type: MeasureType
    sql: str | None = None
    format: str | None = None
    filters: list[MeasureFilterDef] = []
    drill_members: list[str] = []
    rolling_window: RollingWindowDef | None = None


class CaseLabelSql(_Strict):
    sql: str


class CaseWhenDef(_Strict):
    sql: str
    label: str | CaseLabelSql


class CaseElseDef(_Strict):
    label: str | CaseLabelSql


class CaseDef(_Strict):
    when: list[CaseWhenDef] = Field(min_length=1)
    else_: CaseElseDef | None = Field(default=None, alias='else')


class DimensionDef(_Definition):
    type: Literal['string', 'number', 'time', 'boolean']
    sql: str | None = None
    case: CaseDef | None = None
    format: str | None = None
    primary_key: bool = False
    # Extension: this time dimension is the event time, so a date range on it bounds the `dt` partitions.
    dt_partition: bool | None = None


class JoinDef(_Strict):
    name: str = Field(pattern=_NAME)
    sql: str
    relationship: Literal[tuple(RELATIONSHIPS)]  # type: ignore[valid-type]


class SegmentDef(_Definition):
    sql: str


class CubeDef(_Definition):
    sql_table: str | None = None
    sql: str | None = None
    joins: list[JoinDef] = []
    measures: list[MeasureDef] = []
    dimensions: list[DimensionDef] = []
    segments: list[SegmentDef] = []
    # Extension: days of `dt` read beyond a date range, for cubes whose rows span several events (sessions).
    dt_margin_days: int = Field(default=0, ge=0, le=31)


class ViewIncludeDef(_Strict):
    name: str = Field(pattern=_NAME)
    alias: str | None = Field(default=None, pattern=_NAME)
    title: str | None = None
    description: str | None = None
    format: str | None = None
    meta: dict | None = None


class ViewCubeDef(_Strict):
    join_path: str = Field(pattern=r'^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$')
    includes: Literal['*'] | list[str | ViewIncludeDef]
    excludes: list[str] = []
    prefix: bool = False
    alias: str | None = Field(default=None, pattern=_NAME)


class ViewDef(_Definition):
    cubes: list[ViewCubeDef] = []


class ModelFile(_Strict):
    cubes: list[CubeDef] = []
    views: list[ViewDef] = []


@dataclass(frozen=True)
class Member:
    """One compiled member; `expr` is ready to use in a query over the cube's alias (copy before mutating)."""

    cube: str
    name: str
    kind: Literal['measure', 'dimension', 'segment']
    type: str
    title: str
    short_title: str
    expr: exp.Expression
    raw: exp.Expression | None = None
    condition: exp.Expr | None = None
    description: str | None = None
    format: str | None = None
    meta: dict | None = None
    agg_type: str | None = None
    drill_members: tuple[str, ...] = ()
    visible: bool = True
    primary_key: bool = False
    dt_partition: bool = False
    own_title: str | None = None  # the `title` the model gives it, which a view member takes over
    # Measures: a count of rows (no `sql`) counts distinct primary keys where a join multiplies the cube's rows
    # (Cube's `count(distinct pk)`); `multiplied_expr` is the measure as computed there.
    counts_rows: bool = False
    multiplied_expr: exp.Expression | None = None
    row_value: exp.Expression | None = None  # the value aggregated, per row (a rolling window's ungrouped base)
    rolling_window: RollingWindowDef | None = None
    # A view member: the cube member it exposes and the cubes from the view's root to that member's cube.
    origin: 'Member | None' = None
    join_path: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f'{self.cube}.{self.name}'

    @property
    def source(self) -> 'Member':
        """The cube member whose SQL computes this one (itself, unless it is a view's)."""
        return self.origin or self

    @property
    def join_hint(self) -> tuple[str, ...]:
        """The cubes this member needs joined, as Cube's join hints: a view member's join path, else its cube."""
        return self.join_path or (self.cube,)


@dataclass(frozen=True)
class Join:
    """An edge of the join graph: `source` joins `target` ON `condition` (over both cubes' aliases)."""

    source: str
    target: str
    relationship: str  # belongsTo | hasMany | hasOne
    condition: exp.Expression


@dataclass
class Cube:
    name: str
    title: str
    alias: str
    source: exp.Expr
    description: str | None = None
    visible: bool = True
    meta: dict | None = None
    dt_margin_days: int = 0
    measures: dict[str, Member] = field(default_factory=dict)
    dimensions: dict[str, Member] = field(default_factory=dict)
    segments: dict[str, Member] = field(default_factory=dict)
    joins: list[Join] = field(default_factory=list)
    is_view: bool = False
    join_map: list[tuple[str, ...]] = field(default_factory=list)  # a view's join paths of two cubes or more

    @property
    def primary_keys(self) -> list[Member]:
        return [d for d in self.dimensions.values() if d.primary_key]


class DataModel:
    """All cubes and views, by name, with member lookup that raises Cube's errors, and the join graph."""

    def __init__(self, cubes: list[Cube]):
        from serverless_analytics.cube.joins import JoinGraph  # the graph module reads this one's classes

        self.cubes = {cube.name: cube for cube in cubes}
        self.join_graph = JoinGraph(cube for cube in cubes if not cube.is_view)

    def member(self, path: str, kinds: tuple[str, ...] = ('measure', 'dimension', 'segment')) -> Member:
        cube_name, _, name = path.partition('.')
        cube = self.cubes.get(cube_name)
        if cube is None:
            raise CubeQueryError(f"Cube '{cube_name}' not found for path '{path}'")
        for kind in kinds:
            found = getattr(cube, f'{kind}s').get(name)
            if found is not None:
                return found
        raise CubeQueryError(f"'{name}' not found for path '{path}'")


def load_model(directory: Path | str = MODEL_DIR) -> DataModel:
    """Every `*.yml`/`*.yaml` file under `directory` (its sub-folders too: a team's own cubes live in `team/` of the
    shipped model), compiled: cubes, their joins, then views over them."""
    from serverless_analytics.cube.views import compile_view  # views are built from compiled cubes

    paths = sorted([*Path(directory).rglob('*.yml'), *Path(directory).rglob('*.yaml')])
    files = {path: _read_file(path) for path in paths}
    _check_unique_names(files, Path(directory))
    definitions = [cube for file in files.values() for cube in file.cubes]
    view_definitions = [view for file in files.values() for view in file.views]
    compilers = {d.name: _CubeCompiler(d) for d in definitions}
    cubes = {name: compiler.compile() for name, compiler in compilers.items()}
    for name, compiler in compilers.items():
        cubes[name].joins = compiler.joins(compilers, cubes)
    views = [compile_view(definition, cubes) for definition in view_definitions]
    return DataModel([*cubes.values(), *views])


def _check_unique_names(files: dict[Path, ModelFile], directory: Path) -> None:
    """A cube or view name is defined once across every file (a team's file cannot replace a shipped cube)."""
    defined: dict[str, Path] = {}
    for path, file in files.items():
        for item in [*file.cubes, *file.views]:
            if item.name in defined:
                first, second = (str(p.relative_to(directory)) for p in (defined[item.name], path))
                raise CubeModelError(f'Cube or view {item.name!r} is defined twice: in {first} and in {second}')
            defined[item.name] = path


@lru_cache(maxsize=1)
def default_model() -> DataModel:
    return load_model(MODEL_DIR)


def _read_file(path: Path) -> ModelFile:
    try:
        return ModelFile.model_validate(yaml.safe_load(path.read_text()) or {})
    except (yaml.YAMLError, ValidationError) as error:
        raise CubeModelError(f'{path.name}: {error}') from error


class _CubeCompiler:
    """Resolves one cube's member references (with cycle detection) into sqlglot expressions."""

    def __init__(self, definition: CubeDef):
        self.definition = definition
        self.alias = snake_case(definition.name)
        self.title = definition.title or humanize(definition.name)
        members: list[MeasureDef | DimensionDef] = [*definition.measures, *definition.dimensions]
        self.defs = {m.name: m for m in members}
        self.resolved: dict[tuple[str, bool, bool], exp.Expression] = {}
        self.stack: list[str] = []

    def compile(self) -> Cube:
        d = self.definition
        cube = Cube(
            d.name, self.title, self.alias, self._source(), d.description, d.visible(), d.meta, d.dt_margin_days
        )
        cube.dimensions = {m.name: self._dimension(m) for m in d.dimensions}
        cube.measures = {m.name: self._measure(m) for m in d.measures}
        cube.segments = {s.name: self._segment(s) for s in d.segments}
        return cube

    def _source(self) -> exp.Expr:
        d = self.definition
        if (d.sql_table is None) == (d.sql is None):
            raise CubeModelError(f'Cube {d.name}: exactly one of sql_table and sql is required')
        if d.sql is None:  # so sql_table is set
            if d.sql_table != LAKE_TABLE:
                raise CubeModelError(f'Cube {d.name}: sql_table must be {LAKE_TABLE!r}')
            return exp.to_table(LAKE_TABLE)
        source = _parse(d.sql, f'cube {d.name}')
        _check_tables(source, d.name)
        return source

    def _titles(self, definition) -> dict:
        short = definition.title or humanize(definition.name)
        return {'title': f'{self.title} {short}', 'short_title': short, 'own_title': definition.title}

    def _dimension(self, d: DimensionDef) -> Member:
        if (d.sql is None) == (d.case is None):
            raise CubeModelError(f'Cube {self.definition.name}: dimension {d.name} needs exactly one of sql and case')
        sql = (d.sql or '').strip()
        auto_partition = self.definition.sql_table == LAKE_TABLE and sql in ('timestamp', '{CUBE}.timestamp')
        return Member(
            self.definition.name,
            d.name,
            'dimension',
            d.type,
            expr=self.member_expr(d.name, False),
            description=d.description,
            format=d.format,
            meta=d.meta,
            visible=d.visible(default=not d.primary_key),
            primary_key=d.primary_key,
            dt_partition=d.type == 'time' and (d.dt_partition if d.dt_partition is not None else auto_partition),
            **self._titles(d),
        )

    def _measure(self, m: MeasureDef) -> Member:
        if m.rolling_window is not None and m.type == 'number':
            # Cube would render the number's SQL unaggregated over the window's rows: SQL that does not run.
            raise CubeModelError(f'Cube {self.definition.name}: measure {m.name}: rolling_window needs an aggregate')
        drill = tuple(f'{self.definition.name}.{name}' for name in m.drill_members)
        counts_rows = m.type == 'count' and m.sql is None
        return Member(
            self.definition.name,
            m.name,
            'measure',
            'number',
            expr=self.member_expr(m.name, False),
            raw=self.member_expr(m.name, True),
            condition=self._condition(m),
            description=m.description,
            format=m.format,
            meta=m.meta,
            agg_type=AGG_TYPES.get(m.type, m.type),
            drill_members=drill,
            visible=m.visible(),
            counts_rows=counts_rows,
            multiplied_expr=self.member_expr(m.name, False, multiplied=True),
            row_value=self._measure_value(m, False) if m.type != 'number' else None,
            rolling_window=m.rolling_window,
            **self._titles(m),
        )

    def _segment(self, s: SegmentDef) -> Member:
        return Member(
            self.definition.name,
            s.name,
            'segment',
            'segment',
            expr=self.sql_expr(s.sql, False),
            description=s.description,
            meta=s.meta,
            visible=s.visible(),
            **self._titles(s),
        )

    def member_expr(self, name: str, raw: bool, multiplied: bool = False) -> exp.Expression:
        """The expression of member `name`: a dimension's value, or a measure's aggregate (or raw value);
        `multiplied`: as computed where a join multiplies the cube's rows."""
        key = (name, raw, multiplied)
        if key not in self.resolved:
            if name in self.stack:
                raise CubeModelError(f'Cube {self.definition.name}: circular reference {" -> ".join(self.stack)}')
            definition = self.defs.get(name)
            if definition is None:
                raise CubeModelError(f'Cube {self.definition.name}: unknown member {name!r}')
            self.stack.append(name)
            self.resolved[key] = self._definition_expr(definition, raw, multiplied)
            self.stack.pop()
        return self.resolved[key]

    def _definition_expr(self, definition: MeasureDef | DimensionDef, raw: bool, multiplied: bool) -> exp.Expression:
        if isinstance(definition, MeasureDef):
            return self._measure_expr(definition, raw, multiplied)
        if definition.case is not None:
            return self._case_expr(definition.case, raw)
        assert definition.sql is not None, '_dimension checks a dimension has sql or case'
        return self.sql_expr(definition.sql, raw)

    def _case_expr(self, case: CaseDef, raw: bool) -> exp.Expression:
        """Cube's `case` dimension: CASE WHEN <sql> THEN <label> … ELSE <label> END (a label is text or SQL)."""
        ifs = [exp.If(this=self.sql_expr(w.sql, raw), true=self._label(w.label, raw)) for w in case.when]
        default = self._label(case.else_.label, raw) if case.else_ is not None else None
        return exp.Case(ifs=ifs, default=default)

    def _label(self, label: str | CaseLabelSql, raw: bool) -> exp.Expression:
        return exp.Literal.string(label) if isinstance(label, str) else self.sql_expr(label.sql, raw)

    def _condition(self, m: MeasureDef) -> exp.Expr | None:
        conditions = [self.sql_expr(f.sql, False) for f in m.filters]
        return exp.and_(*conditions) if conditions else None

    def _measure_value(self, m: MeasureDef, raw: bool) -> exp.Expression:
        """What a measure aggregates, row by row: its SQL (1 for a count of rows) when its filters hold."""
        value = self.sql_expr(m.sql, raw) if m.sql else None
        if value is None:
            if m.type != 'count':
                raise CubeModelError(f'Cube {self.definition.name}: measure {m.name} needs sql')
            value = exp.Literal.number(1)
        condition = self._condition(m)
        return exp.Case(ifs=[exp.If(this=condition, true=value)]) if condition is not None else value

    def _measure_expr(self, m: MeasureDef, raw: bool, multiplied: bool = False) -> exp.Expression:
        if m.type == 'number':
            if m.sql is None:
                raise CubeModelError(f'Cube {self.definition.name}: number measure {m.name} needs sql')
            return self.sql_expr(m.sql, raw, multiplied=multiplied)
        if multiplied and not raw and m.type == 'count' and m.sql is None:
            counted = self._distinct_key_count(m)
            if counted is not None:
                return counted
        value = self._measure_value(m, raw)
        if raw:
            return _ungrouped(m.type, value)
        return _aggregate(m.type, value, m.sql is None and not m.filters)

    def _distinct_key_count(self, m: MeasureDef) -> exp.Expression | None:
        """A count of rows on the multiplied side of a join counts distinct primary keys, as Cube's does."""
        keys = [d for d in self.definition.dimensions if d.primary_key]
        if not keys:
            return None
        values = [self.member_expr(k.name, False).copy() for k in keys]
        key = values[0] if len(values) == 1 else _concat(values)
        condition = self._condition(m)
        if condition is not None:
            key = exp.Case(ifs=[exp.If(this=condition, true=key)])
        return exp.Count(this=exp.Distinct(expressions=[key]))

    def sql_expr(
        self, sql: str, raw: bool, others: dict[str, '_CubeCompiler'] | None = None, multiplied: bool = False
    ) -> exp.Expression:
        """Parse member SQL, then replace references by the members' expressions. With `others` (a join's SQL),
        `{Other}` is that cube's alias and `{Other.member}` its member."""
        names: list[tuple[_CubeCompiler, str]] = []
        tables: list[str] = []

        def placeholder(match: re.Match) -> str:
            first, second = match.group(1), match.group(2)
            owner = self._owner(first, second, others)
            if owner is not None and second is None:
                tables.append(owner.alias)
                return _TABLE_PLACEHOLDER.format(len(tables) - 1)
            names.append((owner or self, second or first))
            return f'__ref{len(names) - 1}__'

        parsed = _parse(_REFERENCE.sub(placeholder, sql), f'cube {self.definition.name}')

        def substitute(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                if not node.table and (match := re.fullmatch(r'__ref(\d+)__', node.name)):
                    compiler, name = names[int(match.group(1))]
                    return exp.Paren(this=compiler.member_expr(name, raw, multiplied).copy())
                if match := re.fullmatch(r'__table(\d+)__', node.table):
                    alias = exp.to_identifier(tables[int(match.group(1))], quoted=True)
                    return exp.column(node.this.copy(), table=alias)
            return node

        return parsed.transform(substitute)

    def _owner(self, first: str, second: str | None, others: dict[str, '_CubeCompiler'] | None):
        """The cube a reference names (None: a member of this cube), refusing other cubes outside a join."""
        if first in ('CUBE', self.definition.name):
            return self
        if others is not None and first in others:
            return others[first]
        if second is not None:
            raise CubeModelError(f'Cube {self.definition.name}: references to other cubes are only supported in joins')
        return None

    def joins(self, compilers: dict[str, '_CubeCompiler'], cubes: dict[str, Cube]) -> list[Join]:
        """The cube's joins with their conditions resolved, refused as Cube's JoinGraph refuses them."""
        targets = [join.name for join in self.definition.joins]
        name = self.definition.name
        for target in targets:
            if targets.count(target) > 1:
                raise CubeModelError(f"Cube '{name}' declares {targets.count(target)} joins to '{target}'")
            if target not in compilers:
                raise CubeModelError(f"Cube {name}: Cube {target} doesn't exist")
            for cube in (name, target):
                _check_primary_key(compilers[cube].definition, cubes[cube])
        return [self._join(join, compilers) for join in self.definition.joins]

    def _join(self, join: JoinDef, compilers: dict[str, '_CubeCompiler']) -> Join:
        condition = self.sql_expr(join.sql, False, others={join.name: compilers[join.name]})
        return Join(self.definition.name, join.name, RELATIONSHIPS[join.relationship], condition)


def _check_primary_key(definition: CubeDef, cube: Cube) -> None:
    if not cube.primary_keys and any(m.type in _KEYED_MEASURE_TYPES for m in definition.measures):
        raise CubeModelError(
            f"primary key for '{cube.name}' is required when join is defined in order to make aggregates work properly"
        )


def _as_text(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DataType.Type.VARCHAR)


def _concat(values: list[exp.Expression]) -> exp.Expression:
    """`CAST(a AS VARCHAR) || CAST(b AS VARCHAR) …`: several primary keys counted as one, as Cube concatenates them."""
    result = _as_text(values[0])
    for value in values[1:]:
        result = exp.DPipe(this=result, expression=_as_text(value))
    return result


# Typed as the node classes they are: inferred, sqlglot's common base would be its AggFunc trait, not an Expression.
_AGGREGATES: dict[str, type[exp.Expression]] = {'sum': exp.Sum, 'avg': exp.Avg, 'min': exp.Min, 'max': exp.Max}


def _ungrouped(measure_type: str, value: exp.Expression) -> exp.Expression:
    """A measure's value on one row of an ungrouped query, as Cube writes it: a count of the row is 1 when the
    counted value is there, else NULL; any other aggregate is the value itself."""
    if measure_type.startswith('count'):
        present = exp.Not(this=exp.Is(this=exp.paren(value), expression=exp.Null()))
        return exp.Case(ifs=[exp.If(this=present, true=exp.Literal.number(1))])
    return value


def _aggregate(measure_type: str, value: exp.Expression, count_star: bool) -> exp.Expression:
    if measure_type == 'count':
        return exp.Count(this=exp.Star()) if count_star else exp.Count(this=value)
    if measure_type == 'count_distinct':
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if measure_type == 'count_distinct_approx':
        return exp.ApproxDistinct(this=value)
    return _AGGREGATES[measure_type](this=value)


def _parse(sql: str, where: str) -> exp.Expr:
    try:
        return sqlglot.parse_one(sql, read=MODEL_DIALECT)
    except sqlglot.errors.ParseError as error:
        raise CubeModelError(f'{where}: cannot parse SQL {sql!r}: {error}') from error


def _check_tables(source: exp.Expr, cube_name: str) -> None:
    """Tenant safety: a cube's SQL may read only the lake's tables (and its own CTEs)."""
    ctes = {cte.alias_or_name for cte in source.find_all(exp.CTE)}
    for table in source.find_all(exp.Table):
        if table.name in ctes and not table.db:
            continue
        if table.name not in MODEL_TABLES or table.db or table.catalog:
            raise CubeModelError(
                f'Cube {cube_name}: may only read the tables {", ".join(map(repr, MODEL_TABLES))}, not {table.sql()!r}'
            )
