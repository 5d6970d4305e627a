"""Cube's `views`: members of joined cubes exposed under the view's name, queried as if the view were a cube.

A view member is a `Member` of the view whose `origin` is the cube member it exposes and whose `join_path` is
the view's path to that member's cube (`Events.Sessions`); the compiler uses the origin's SQL and the path as
Cube's join hint, so a view query joins exactly as the view declares. Naming follows CubeSymbols: a member keeps
its name (or its include's `alias`), prefixed `<alias or cube>_` when the cube include has `prefix: true`.
"""

import dataclasses

from sqlglot import exp

from serverless_analytics.cube.datamodel import Cube, Member, ViewCubeDef, ViewDef, ViewIncludeDef
from serverless_analytics.cube.titles import humanize, snake_case
from serverless_analytics.models.errors import CubeModelError

# Dimensions before measures, as Cube includes them: a view measure's drill members are the view's dimensions.
_KINDS = ('dimensions', 'measures', 'segments')


def compile_view(definition: ViewDef, cubes: dict[str, Cube]) -> Cube:
    title = definition.title or humanize(definition.name)
    view = Cube(
        definition.name,
        title,
        snake_case(definition.name),
        exp.Null(),  # never read: a view's members are computed from their cubes
        definition.description,
        definition.visible(),
        definition.meta,
        is_view=True,
    )
    view.join_map = [path for path in (tuple(c.join_path.split('.')) for c in definition.cubes) if len(path) > 1]
    included: set[str] = set()
    resolved: set[str] = set()
    for kind in _KINDS:
        for cube_include in definition.cubes:
            for name, member in _members(view, cube_include, kind, cubes, included, resolved):
                _add(view, kind, name, member)
    for name in sorted(included - resolved):
        raise CubeModelError(f"Member '{name}' is included in '{view.name}' but not defined in any cube")
    return view


def _members(view: Cube, include: ViewCubeDef, kind: str, cubes: dict[str, Cube], included: set, resolved: set):
    """(view member name, member) for each member of `kind` the cube include brings, in Cube's order."""
    path = tuple(include.join_path.split('.'))
    for cube_name in path:
        if cube_name not in cubes:
            raise CubeModelError(f"View {view.name}: join_path {include.join_path!r}: cube '{cube_name}' not found")
    cube = cubes[path[-1]]
    members: dict[str, Member] = getattr(cube, kind)
    prefix = f'{include.alias or cube.name}_' if include.prefix else ''
    items = [ViewIncludeDef(name=n) for n in members] if include.includes == '*' else _include_items(include)
    for item in items:
        if item.name in include.excludes:
            continue
        name = prefix + (item.alias or item.name)
        included.add(name)
        origin = members.get(item.name)
        if origin is None:
            continue
        resolved.add(name)
        yield name, _view_member(view, name, origin, item, path)


def _include_items(include: ViewCubeDef) -> list[ViewIncludeDef]:
    assert include.includes != '*'
    return [ViewIncludeDef(name=item) if isinstance(item, str) else item for item in include.includes]


def _view_member(view: Cube, name: str, origin: Member, item: ViewIncludeDef, path: tuple[str, ...]) -> Member:
    """The view's member: the origin's SQL and type, the include's overrides, Cube's view titles; a view member
    is public (Cube copies neither `public` nor `primary_key` to it)."""
    short = item.title or origin.own_title or humanize(name)
    return dataclasses.replace(
        origin,
        cube=view.name,
        name=name,
        title=f'{view.title} {short}',
        short_title=short,
        own_title=item.title or origin.own_title,
        description=item.description or origin.description,
        format=item.format or origin.format,
        meta=item.meta or origin.meta,
        visible=view.visible,
        primary_key=False,
        drill_members=(),
        origin=origin.source,
        join_path=path,
    )


def _add(view: Cube, kind: str, name: str, member: Member) -> None:
    members: dict[str, Member] = getattr(view, kind)
    if name in members:
        raise CubeModelError(
            f"Included member '{name}' conflicts with existing member of '{view.name}'. "
            'Please consider excluding this member or assigning it an alias.'
        )
    if kind == 'measures':
        member = dataclasses.replace(member, drill_members=_drill_members(view, member))
    members[name] = member


def _drill_members(view: Cube, measure: Member) -> tuple[str, ...]:
    """The measure's drill members that the view includes, under their view names (CubeSymbols)."""
    assert measure.origin is not None
    by_origin = {d.source.path: d.path for d in view.dimensions.values()}
    return tuple(by_origin[path] for path in measure.origin.drill_members if path in by_origin)
