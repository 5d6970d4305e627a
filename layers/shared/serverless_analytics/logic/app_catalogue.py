"""The app catalogue (insights mapping §3): per (template, slug), the newest app definition of every build ever.

The usage rollup keeps it as one small file per project, `usage/project_id=<p>/catalogue/catalogue.parquet`, so
that the template insights read it instead of every builds file the project ever had (their cost must not grow
with the history, issue 14).

- Newest: the latest build; of two builds of one instant, the later received (a re-sent definition replaces the
  one before, as a later send does everywhere in the mapping); of two received at the same millisecond, the smaller display name and icon, so that no choice ever
  depends on the order definitions were seen in.
- Merged as a max per (template, slug), a day's builds into the stored catalogue: merging a day again, a late
  day, or days in any order gives the same catalogue. A definition is only ever replaced by a newer one: the
  builds of a day only gain builds when it is recomputed (the lake keeps every event; a copy counts once, the
  first received).
- A kept catalogue always holds one row without a template, `KEPT`: even a project without a single build then
  has a row, so a query tells a project whose catalogue the rollup has not written yet (a lake from before the
  catalogue, which the template insights answer from every build instead) from one that has no app.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

CATALOGUE_SCHEMA = pa.schema(
    [
        pa.field('template_id', pa.string()),  # null only in the `KEPT` row
        pa.field('slug', pa.string(), nullable=False),
        pa.field('display_name', pa.string(), nullable=False),
        pa.field('icon', pa.string(), nullable=False),
        pa.field('created_at', pa.timestamp('ms', tz='UTC'), nullable=False),  # the defining build's
        pa.field('received_at', pa.timestamp('ms', tz='UTC'), nullable=False),
    ]
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
KEPT = {'template_id': None, 'slug': '', 'display_name': '', 'icon': '', 'created_at': _EPOCH, 'received_at': _EPOCH}
Key = tuple[str, str]  # (template id, slug)


def catalogue_key(prefix: str, project_id: str) -> str:
    """The project's catalogue, in a folder of its own next to its days' (`dt=`) folders."""
    return f'{prefix}/project_id={project_id}/catalogue/catalogue.parquet'


def merged_catalogue(stored: pa.Table | None, builds: Iterable[pa.Table]) -> pa.Table:
    """The stored catalogue (None: none yet) with the definitions of `builds` (logic.workspace_builds.BUILD_SCHEMA
    tables) merged in, by (template, slug), with the `KEPT` row first."""
    newest: dict[Key, dict[str, Any]] = {}
    stored_rows = stored.to_pylist() if stored is not None else []
    for definition in (*stored_rows, *(row for table in builds for row in _definitions(table))):
        if definition['template_id'] is None:
            continue  # the stored `KEPT` row
        key = (definition['template_id'], definition['slug'])
        known = newest.get(key)
        if known is None or _rank(definition) < _rank(known):
            newest[key] = definition
    rows = [KEPT, *(newest[key] for key in sorted(newest))]
    return pa.Table.from_pylist(rows, schema=CATALOGUE_SCHEMA)


def _definitions(builds: pa.Table) -> Iterable[dict[str, Any]]:
    """Each app of each build of a template (a build of no template defines no app a usage bucket can have)."""
    for build in builds.select(['template_id', 'created_at', 'received_at', 'apps']).to_pylist():
        if build['template_id'] is None:
            continue
        for app in json.loads(build['apps']):
            yield {
                'template_id': build['template_id'],
                'slug': app['slug'],
                'display_name': app['display_name'],
                'icon': app['icon'],
                'created_at': build['created_at'],
                'received_at': build['received_at'],
            }


def _rank(definition: dict[str, Any]) -> tuple[int, int, str, str]:
    """Smaller is newer: the later build, then the later received, then the smaller display name and icon."""
    return (
        -_milliseconds(definition['created_at']),
        -_milliseconds(definition['received_at']),
        definition['display_name'],
        definition['icon'],
    )


def _milliseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _MILLISECOND
