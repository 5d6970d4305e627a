"""`/v1/meta` (spec §5.2): the visible cubes, views and members of the data model, as Cube 1.7 shows them:
`type` `view` for a view, `connectedComponent` for a cube in the join graph (Cube's meta shows no `joins`),
`aliasMember` for a view member, `cumulative` for a rolling-window measure."""

from serverless_analytics.cube.datamodel import Cube, DataModel, Member
from serverless_analytics.cube.formatter import drill_grouped


def meta_response(model: DataModel) -> dict:
    components = model.join_graph.connected_components()
    return {'cubes': [_cube(cube, model, components) for cube in model.cubes.values() if cube.visible]}


def _cube(cube: Cube, model: DataModel, components: dict[str, int]) -> dict:
    item: dict[str, object] = {'name': cube.name, 'title': cube.title, 'type': 'view' if cube.is_view else 'cube'}
    if cube.description is not None:
        item['description'] = cube.description
    if cube.name in components:
        item['connectedComponent'] = components[cube.name]
    if cube.meta is not None:
        item['meta'] = cube.meta
    return item | {
        'isVisible': True,
        'public': True,
        'measures': [_measure(m, model) for m in cube.measures.values() if m.visible],
        'dimensions': [_dimension(d) for d in cube.dimensions.values() if d.visible],
        'segments': [_segment(s) for s in cube.segments.values() if s.visible],
        'hierarchies': [],
    }


def _common(member: Member) -> dict:
    item: dict[str, object] = {'name': member.path, 'title': member.title, 'shortTitle': member.short_title}
    for key, value in (('description', member.description), ('format', member.format), ('meta', member.meta)):
        if value is not None:
            item[key] = value
    if member.origin is not None:
        item['aliasMember'] = member.origin.path
    return item


def _measure(member: Member, model: DataModel) -> dict:
    cumulative = member.rolling_window is not None and member.origin is None  # a view's copy has no window
    return _common(member) | {
        'cumulativeTotal': cumulative,
        'cumulative': cumulative,
        'type': 'number',
        'aggType': member.agg_type,
        'drillMembers': list(member.drill_members),
        'drillMembersGrouped': drill_grouped(member, model),
        'isVisible': True,
        'public': True,
    }


def _dimension(member: Member) -> dict:
    return _common(member) | {
        'type': member.type,
        'suggestFilterValues': True,
        'isVisible': True,
        'public': True,
        'primaryKey': member.primary_key,
    }


def _segment(member: Member) -> dict:
    return _common(member) | {'isVisible': True, 'public': True}
