"""Check a data model before it ships: `python -m serverless_analytics.cube.validate [model directory]`.

Loads every file (the shipped model and a team's own cubes in `model/team/`), then compiles, for both engines'
dialects, a query of each public measure and dimension of each cube and view, with a date range on a time
dimension and a segment where the cube has them, so a broken file (bad YAML, an unknown reference, SQL that does
not parse, a join to nowhere) fails `make test` and `make build` rather than a dashboard. Exit status 1 on the
first problem, with its file and member.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from serverless_analytics.cube.api import compile_request
from serverless_analytics.cube.datamodel import MODEL_DIR, Cube, DataModel, Member, load_model
from serverless_analytics.cube.target import Target
from serverless_analytics.models.errors import CubeModelError, CubeQueryError

TARGETS = (Target('duckdb', 'events'), Target('trino', 'events'))
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def queries(cube: Cube) -> list[dict]:
    """One query per public member of the cube, each with its time dimension's range and its first segment."""
    public = [m for m in (*cube.measures.values(), *cube.dimensions.values()) if m.visible]
    time = next((m for m in cube.dimensions.values() if m.type == 'time' and m.visible), None)
    segment = next((s for s in cube.segments.values() if s.visible), None)
    extra: dict = {'segments': [segment.path]} if segment else {}
    if time is not None:
        extra['timeDimensions'] = [{'dimension': time.path, 'dateRange': 'last 7 days'}]
    return [{_kind(member): [member.path], **extra} for member in public]


def _kind(member: Member) -> str:
    return 'measures' if member.kind == 'measure' else 'dimensions'


def problems(model: DataModel) -> list[str]:
    """What does not compile, by member and dialect (empty when the model is sound)."""
    found = []
    for cube in model.cubes.values():
        for query in queries(cube):
            for target in TARGETS:
                try:
                    compile_request(query, 'validate', target, _NOW, model)
                except (CubeQueryError, CubeModelError) as error:
                    found.append(f'{cube.name}: {query} on {target.dialect}: {error}')
    return found


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else MODEL_DIR
    try:
        model = load_model(directory)
    except CubeModelError as error:
        print(f'data model in {directory}: {error}', file=sys.stderr)
        return 1
    found = problems(model)
    for problem in found:
        print(problem, file=sys.stderr)
    members = sum(len(queries(cube)) for cube in model.cubes.values())
    print(f'data model in {directory}: {len(model.cubes)} cubes and views, {members} members, {len(found)} problems')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
