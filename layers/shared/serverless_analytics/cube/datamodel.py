"""Cube data model: YAML files in Cube's own format (`cubes:`), validated and compiled to sqlglot expressions.

Member SQL is parsed once, at load time, in `MODEL_DIALECT`; `{CUBE}`, `{member}` and `{CUBE.member}`
references are resolved into the expressions of the members they name. Every table a cube reads must be the
lake table (`events`): the compiler swaps each such table for a scan that carries the project predicate, so
no cube can ever read another project's rows.
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
CUBE_PLACEHOLDER = '__cube__'
_REFERENCE = re.compile(r'\$?\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\}')
_NAME = r'^[A-Za-z_][A-Za-z0-9_]*$'
MeasureType = Literal['count', 'count_distinct', 'count_distinct_approx', 'sum', 'avg', 'min', 'max', 'number']
AGG_TYPES = {'count_distinct': 'countDistinct', 'count_distinct_approx': 'countDistinctApprox'}


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


class MeasureDef(_Definition):
    type: MeasureType
    sql: str | None = None
    format: str | None = None
    filters: list[MeasureFilterDef] = []
    drill_members: list[str] = []


class DimensionDef(_Definition):
    type: Literal['string', 'number', 'time', 'boolean']
    sql: str
    format: str | None = None
    primary_key: bool = False
    # Extension: this time dimension is the event time, so a date range on it bounds the `dt` partitions.
    dt_partition: bool | None = None


class SegmentDef(_Definition):
    sql: str


class CubeDef(_Definition):
    sql_table: str | None = None
    sql: str | None = None
    measures: list[MeasureDef] = []
    dimensions: list[DimensionDef] = []
    segments: list[SegmentDef] = []
    # Extension: days of `dt` read beyond a date range, for cubes whose rows span several events (sessions).
    dt_margin_days: int = Field(default=0, ge=0, le=31)


class ModelFile(_Strict):
    cubes: list[CubeDef] = []


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

    @property
    def path(self) -> str:
        return f'{self.cube}.{self.name}'


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


class DataModel:
    """All cubes, by name, with member lookup that raises Cube's errors."""

    def __init__(self, cubes: list[Cube]):
        self.cubes = {cube.name: cube for cube in cubes}

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
    """Every `*.yml`/`*.yaml` file of `directory`, compiled."""
    paths = sorted([*Path(directory).glob('*.yml'), *Path(directory).glob('*.yaml')])
    definitions = [cube for path in paths for cube in _read_file(path).cubes]
    names = [cube.name for cube in definitions]
    if len(names) != len(set(names)):
        raise CubeModelError(f'Duplicate cube names in {directory}')
    return DataModel([_CubeCompiler(definition).compile() for definition in definitions])


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
        self.resolved: dict[tuple[str, bool], exp.Expression] = {}
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
        return {'title': f'{self.title} {short}', 'short_title': short}

    def _dimension(self, d: DimensionDef) -> Member:
        auto_partition = self.definition.sql_table == LAKE_TABLE and d.sql.strip() in ('timestamp', '{CUBE}.timestamp')
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
        drill = tuple(f'{self.definition.name}.{name}' for name in m.drill_members)
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

    def member_expr(self, name: str, raw: bool) -> exp.Expression:
        """The expression of member `name`: a dimension's value, or a measure's aggregate (or raw value)."""
        key = (name, raw)
        if key not in self.resolved:
            if name in self.stack:
                raise CubeModelError(f'Cube {self.definition.name}: circular reference {" -> ".join(self.stack)}')
            definition = self.defs.get(name)
            if definition is None:
                raise CubeModelError(f'Cube {self.definition.name}: unknown member {name!r}')
            self.stack.append(name)
            self.resolved[key] = (
                self._measure_expr(definition, raw)
                if isinstance(definition, MeasureDef)
                else self.sql_expr(definition.sql, raw)
            )
            self.stack.pop()
        return self.resolved[key]

    def _condition(self, m: MeasureDef) -> exp.Expr | None:
        conditions = [self.sql_expr(f.sql, False) for f in m.filters]
        return exp.and_(*conditions) if conditions else None

    def _measure_expr(self, m: MeasureDef, raw: bool) -> exp.Expression:
        value = self.sql_expr(m.sql, raw) if m.sql else None
        if m.type == 'number':
            if value is None:
                raise CubeModelError(f'Cube {self.definition.name}: number measure {m.name} needs sql')
            return value
        condition = self._condition(m)
        if m.type == 'count':
            value = value if value is not None else exp.Literal.number(1)
        elif value is None:
            raise CubeModelError(f'Cube {self.definition.name}: measure {m.name} needs sql')
        if condition is not None:
            value = exp.Case(ifs=[exp.If(this=condition, true=value)])
        if raw:
            return _ungrouped(m.type, value)
        return _aggregate(m.type, value, m.sql is None and condition is None)

    def sql_expr(self, sql: str, raw: bool) -> exp.Expression:
        """Parse member SQL, then replace references by the members' expressions."""
        names: list[str] = []

        def placeholder(match: re.Match) -> str:
            first, second = match.group(1), match.group(2)
            if second is None and first == 'CUBE':
                return CUBE_PLACEHOLDER
            if second is not None and first not in ('CUBE', self.definition.name):
                raise CubeModelError(f'Cube {self.definition.name}: references to other cubes are not supported')
            names.append(second or first)
            return f'__ref{len(names) - 1}__'

        parsed = _parse(_REFERENCE.sub(placeholder, sql), f'cube {self.definition.name}')

        def substitute(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                if not node.table and (match := re.fullmatch(r'__ref(\d+)__', node.name)):
                    return exp.Paren(this=self.member_expr(names[int(match.group(1))], raw).copy())
                if node.table == CUBE_PLACEHOLDER:
                    return exp.column(node.this.copy(), table=exp.to_identifier(self.alias, quoted=True))
            return node

        return parsed.transform(substitute)


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
    """Tenant safety: a cube's SQL may read only the lake table (and its own CTEs)."""
    ctes = {cte.alias_or_name for cte in source.find_all(exp.CTE)}
    for table in source.find_all(exp.Table):
        if table.name in ctes and not table.db:
            continue
        if table.name != LAKE_TABLE or table.db or table.catalog:
            raise CubeModelError(f'Cube {cube_name}: may only read the {LAKE_TABLE!r} table, not {table.sql()!r}')
