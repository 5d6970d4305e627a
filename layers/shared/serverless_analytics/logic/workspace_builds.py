"""Workspace builds from events: the rollup the insights' app catalogue and parameters read (insights mapping §3).

One row per `workspace.build` event (a copy of an event id counts once, the first received) whose time is in the
window, with its template as Coder would parse it (a UUID, or none, as the usage buckets do) and its apps,
parameter values and parameter definitions as JSON arrays in one shape whatever the producer sent:

- `apps`: `[{agent_id, slug, display_name, icon}]`, one per slug (the first listed: a build defines an app once);
- `parameters`: `[{name, value}]`, the value as text (a non-text value as its JSON);
- `template_parameters`: `[{name, display_name, type, description, options: [{name, description, value, icon}]}]`.

Missing text fields are `''`, entries that are not objects (or apps without a slug) are left out, so the queries
compare definitions and join apps without caring how a producer spelled them.
"""

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

BUILD_EVENT = 'workspace.build'
APP_FIELDS = ('agent_id', 'slug', 'display_name', 'icon')
DEFINITION_FIELDS = ('name', 'display_name', 'type', 'description')
OPTION_FIELDS = ('name', 'description', 'value', 'icon')

BUILD_SCHEMA = pa.schema(
    [
        pa.field('workspace_id', pa.string(), nullable=False),
        pa.field('build_number', pa.int64(), nullable=False),
        pa.field('template_id', pa.string()),  # null: not a UUID, so no template's
        pa.field('created_at', pa.timestamp('ms', tz='UTC'), nullable=False),  # the event's timestamp
        # When the event arrived: of two definitions of one instant, the first sent wins
        pa.field('received_at', pa.timestamp('ms', tz='UTC'), nullable=False),
        pa.field('template_version_id', pa.string(), nullable=False),
        pa.field('apps', pa.string(), nullable=False),
        pa.field('parameters', pa.string(), nullable=False),
        pa.field('template_parameters', pa.string(), nullable=False),
    ]
)


def builds_key(prefix: str, project_id: str, day: date) -> str:
    """The day's builds, next to its usage buckets."""
    return f'{prefix}/project_id={project_id}/dt={day.isoformat()}/builds.parquet'


def workspace_builds(events: pa.Table, start: datetime, end: datetime) -> pa.Table:
    """The builds whose time is in [start, end), from lake rows `events`, oldest first."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register('lake_rows', events)
        bounds = {'start': _utc_wall(start), 'end': _utc_wall(end)}
        rows = connection.execute(_BUILD_EVENTS_SQL, bounds).fetchall()
    finally:
        connection.close()
    return pa.Table.from_pylist([_build(*row) for row in rows], schema=BUILD_SCHEMA)


def _utc_wall(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# Deduplicated before the window is applied, as the usage buckets are: the first received copy is the event.
_BUILD_EVENTS_SQL = f"""
WITH builds AS (
    SELECT CAST("timestamp" AS TIMESTAMP) AS created_at, CAST(received_at AS TIMESTAMP) AS received_at,
           CAST(TRY_CAST(template_id AS UUID) AS VARCHAR) AS template_id, properties, name
    FROM lake_rows
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1
)
SELECT created_at, received_at, template_id, properties FROM builds
WHERE name = '{BUILD_EVENT}' AND created_at >= $start AND created_at < $end
ORDER BY created_at, received_at
"""


def _build(created_at: datetime, received_at: datetime, template_id: str | None, properties: str | None) -> dict:
    sent = _json_object(properties)
    return {
        'workspace_id': _text(sent.get('workspace_id')),
        'build_number': _integer(sent.get('build_number')),
        'template_id': template_id,
        'created_at': created_at.replace(tzinfo=UTC),
        'received_at': received_at.replace(tzinfo=UTC),
        'template_version_id': _text(sent.get('template_version_id')),
        'apps': _json(_apps(sent.get('apps'))),
        'parameters': _json(_parameter_values(sent.get('parameters'))),
        'template_parameters': _json(_definitions(sent.get('template_parameters'))),
    }


def _apps(sent: Any) -> list[dict[str, str]]:
    apps: dict[str, dict[str, str]] = {}
    for app in _objects(sent):
        entry = _fields(app, APP_FIELDS)
        if entry['slug']:
            apps.setdefault(entry['slug'], entry)
    return list(apps.values())


def _parameter_values(sent: Any) -> list[dict[str, str]]:
    return [{'name': _text(value.get('name')), 'value': _text(value.get('value'))} for value in _objects(sent)]


def _definitions(sent: Any) -> list[dict[str, Any]]:
    return [_definition(definition) for definition in _objects(sent)]


def _definition(sent: dict[str, Any]) -> dict[str, Any]:
    options = [_fields(option, OPTION_FIELDS) for option in _objects(sent.get('options'))]
    return {**_fields(sent, DEFINITION_FIELDS), 'options': options}


def _fields(sent: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: _text(sent.get(name)) for name in names}


def _objects(sent: Any) -> Iterable[dict[str, Any]]:
    return [item for item in sent if isinstance(item, dict)] if isinstance(sent, list) else []


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    if value is None:
        return ''
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(',', ':'))


def _integer(value: Any) -> int:
    """Coder's build numbers are integers; anything else (absent, text, fractional) is build 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63 else 0


def _json(value: list[Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(',', ':'))
