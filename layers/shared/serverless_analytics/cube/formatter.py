"""Engine rows and compiled queries to Cube's wire format (spec §4–§5): data, annotation, result objects."""

from datetime import UTC, date, datetime

from serverless_analytics.cube.compiler import Column, CompiledQuery
from serverless_analytics.cube.datamodel import DataModel, Member
from serverless_analytics.cube.dates import format_local
from serverless_analytics.cube.query import BLENDING, COMPARE, REGULAR, Query
from serverless_analytics.cube.titles import underscore
from serverless_analytics.cube.values import wire_number
from serverless_analytics.engines.base import QueryResult
from serverless_analytics.models.errors import CubeQueryError


def wire_value(value, member: Member):
    """One cell as Cube sends it: times as local `YYYY-MM-DDTHH:mm:ss.SSS`, numbers as strings."""
    if value is None:
        return None
    if member.type == 'time' or isinstance(value, (datetime, date)):
        return _time_string(value)
    if member.type == 'number' or member.kind == 'measure':
        return wire_number(value)
    if member.type == 'boolean' and isinstance(value, bool):
        return value
    return value if isinstance(value, str) else wire_number(value)


def _time_string(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return format_local(naive)
    return format_local(datetime(value.year, value.month, value.day))


def rows(compiled: CompiledQuery, query: Query, result: QueryResult) -> list[dict]:
    """Row objects keyed by member (`Cube.td.<granularity>` plus the deprecated `Cube.td` key)."""
    keys = [column.keys(query) for column in compiled.columns]
    out = []
    for values in result.rows:
        row = {}
        for column, column_keys, value in zip(compiled.columns, keys, values, strict=False):
            cell = wire_value(value, column.member)
            for key in column_keys:  # a loop, not row.update(dict.fromkeys(...)): no dict made per cell
                row[key] = cell
        out.append(row)
    return out


HIDDEN_MEMBER = (
    "You requested hidden member: '{}'. Please make it visible using `public: true`. Please note primaryKey fields "
    'are `public: false` by default: https://cube.dev/docs/schema/reference/joins#setting-a-primary-key.'
)


def check_visible(compiled: CompiledQuery, query: Query, model: DataModel, has_rows: bool) -> None:
    """Cube refuses a selected member its meta hides (a primary key without `public: true`) when it maps the
    result: by the column's alias when there are rows, else by the member's name (a 500 in Cube, a 400 here)."""
    if has_rows:
        hidden = [_cube_alias(column) for column in compiled.columns if not column.member.visible]
    else:
        paths = [*query.measures, *query.dimensions, *(td.dimension for td in query.time_dimensions)]
        hidden = [path for path in paths if not model.member(path, ('measure', 'dimension')).visible]
    if hidden:
        raise CubeQueryError('Error: ' + HIDDEN_MEMBER.format(hidden[0]))


def _cube_alias(column: Column) -> str:
    """The column's alias as Cube's SQL names it (`inflection.underscore` of each name: `sessionID` is
    `session_i_d`), which its message quotes; the product's own SQL aliases are its own."""
    alias = f'{underscore(column.member.cube)}__{underscore(column.member.name)}'
    return f'{alias}_{column.granularity}' if column.granularity else alias


def annotation(compiled: CompiledQuery, query: Query, model: DataModel) -> dict:
    measures = {c.key: member_annotation(c.member, model) for c in compiled.columns if c.member.kind == 'measure'}
    dimensions = {
        c.key: member_annotation(c.member, model)
        for c in compiled.columns
        if c.member.kind == 'dimension' and not c.granularity
    }
    time_dimensions = {
        key: _time_annotation(column.member, model, column.granularity if key == column.key else None)
        for column in compiled.columns
        if column.granularity
        for key in column.keys(query)
    }
    segments = {path: member_annotation(model.member(path, ('segment',)), model) for path in query.segments}
    return {'measures': measures, 'dimensions': dimensions, 'segments': segments, 'timeDimensions': time_dimensions}


def _time_annotation(member: Member, model: DataModel, granularity: str | None) -> dict:
    """A time bucket's annotation carries its granularity as Cube 1.7 describes a predefined one; the deprecated
    bare key of the same member does not."""
    item = member_annotation(member, model)
    if granularity is not None:
        item['granularity'] = {'name': granularity, 'title': granularity, 'interval': f'1 {granularity}'}
    return item


def member_annotation(member: Member, model: DataModel) -> dict:
    item: dict[str, object] = {'title': member.title, 'shortTitle': member.short_title}
    if member.description is not None:
        item['description'] = member.description
    if member.kind != 'segment':
        item['type'] = member.type
    if member.format is not None:
        item['format'] = member.format
    if member.meta is not None:
        item['meta'] = member.meta
    if member.kind == 'measure':
        item['drillMembers'] = list(member.drill_members)
        item['drillMembersGrouped'] = drill_grouped(member, model)
    return item


def drill_grouped(member: Member, model: DataModel) -> dict:
    cube = model.cubes[member.cube]
    names = [path.split('.', 1)[1] for path in member.drill_members]
    return {
        'measures': [f'{member.cube}.{n}' for n in names if n in cube.measures],
        'dimensions': [f'{member.cube}.{n}' for n in names if n in cube.dimensions],
    }


def result_object(query_echo: dict, data, annotation_: dict, db_type: str, refreshed: datetime, total) -> dict:
    """One `results[i]` (also the whole legacy single-form body)."""
    return {
        'query': query_echo,
        'data': data,
        'lastRefreshTime': refreshed.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.')
        + f'{refreshed.microsecond // 1000:03d}Z',
        'annotation': annotation_,
        'dataSource': 'default',
        'dbType': db_type,
        'extDbType': 'cubestore',
        'external': False,
        'slowQuery': False,
        'total': total,
    }


def compact(data: list[dict], compiled: CompiledQuery, query: Query, query_type: str) -> dict:
    """`responseFormat: "compact"`: members once, then one array per row. As Cube lists them: the columns' members in
    order, then each time dimension's deprecated bare key, then `compareDateRange`; no members without rows."""
    if not data:
        return {'members': [], 'dataset': []}
    members = [column.key for column in compiled.columns]
    bare = dict.fromkeys(column.member.path for column in compiled.columns if len(column.keys(query)) > 1)
    members += [
        path for path in dict.fromkeys(c.member.path for c in compiled.columns if c.granularity) if path in bare
    ]
    if query_type == COMPARE:
        members.append('compareDateRange')
    return {'members': members, 'dataset': [[row.get(m) for m in members] for row in data]}


def pivot_query(query_type: str, echoes: list[dict]) -> dict:
    """Cube's `getPivotQuery`; for a regular query it is the (mutated) first normalised query itself."""
    if query_type == REGULAR:
        echoes[0]['queryType'] = REGULAR
        return echoes[0]
    if query_type == COMPARE:
        return {**echoes[0], 'dimensions': ['compareDateRange', *echoes[0].get('dimensions', [])], 'queryType': COMPARE}
    first = echoes[0]
    granular = next(td for td in first['timeDimensions'] if td.get('granularity'))
    time_dimension = {'dimension': 'time', 'granularity': granular['granularity']}
    if 'dateRange' in granular:
        time_dimension['dateRange'] = granular['dateRange']
    return {
        **first,
        'measures': list(dict.fromkeys(m for e in echoes for m in e.get('measures', []))),
        'dimensions': list(dict.fromkeys(d for e in echoes for d in e.get('dimensions', []))),
        'timeDimensions': [time_dimension],
        'queryType': BLENDING,
    }


def add_compare_key(data: list[dict], date_range: list[str] | None) -> None:
    label = ' - '.join(date_range) if date_range else None
    for row in data:
        row['compareDateRange'] = label


def add_blending_key(data: list[dict], query: Query) -> None:
    granular = next(td for td in query.time_dimensions if td.granularity)
    key = f'{granular.dimension}.{granular.granularity}'
    for row in data:
        row[f'time.{granular.granularity}'] = row.get(key)
