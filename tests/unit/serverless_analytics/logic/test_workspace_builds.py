"""Workspace builds from lake rows (insights mapping §3): one row per build event of the window, in one JSON shape,
and the usage rollup writing them next to the day's buckets."""

import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from serverless_analytics.config import get_settings
from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic import usage_rollup
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA, builds_key, workspace_builds

TEMPLATE = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))


def _row(at: datetime, properties: dict[str, Any] | str, template: str | None = TEMPLATE, **fields: Any) -> dict:
    return {
        'event_id': fields.pop('event_id', str(uuid.uuid4())),
        'name': fields.pop('name', 'workspace.build'),
        'timestamp': at,
        'received_at': fields.pop('received_at', at),
        'user_id': 'u1',
        'template_id': template,
        'properties': properties if isinstance(properties, str) else json.dumps(properties),
    }


def _build(at: datetime = NINE, number: Any = 1, row: dict[str, Any] | None = None, **properties: Any) -> dict:
    sent = {'workspace_id': 'w1', 'build_number': number, 'template_version_id': 'v1', **properties}
    return _row(at, sent, **(row or {}))


def _builds(rows: list[dict], window: tuple[datetime, datetime] = DAY) -> list[dict]:
    table = workspace_builds(pa.Table.from_pylist(rows, schema=FILE_SCHEMA), *window)
    assert table.schema == BUILD_SCHEMA
    return table.to_pylist()


def test_a_build_event_becomes_one_row_with_its_apps_values_and_definitions():
    app = {'agent_id': 'a1', 'slug': 'code-server', 'display_name': 'code-server', 'icon': '/icon/code.svg'}
    option = {'name': 'Helsinki', 'description': 'Finland', 'value': 'eu-hel', 'icon': '/emojis/1f1eb-1f1ee.png'}
    definition = {'name': 'region', 'display_name': 'Region', 'type': 'string', 'description': 'Where'}
    rows = [
        _build(
            apps=[app],
            parameters=[{'name': 'region', 'value': 'eu-hel'}],
            template_parameters=[{**definition, 'options': [option]}],
        )
    ]

    [build] = _builds(rows)

    assert (build['workspace_id'], build['build_number'], build['template_id']) == ('w1', 1, TEMPLATE)
    assert (build['created_at'], build['received_at'], build['template_version_id']) == (NINE, NINE, 'v1')
    assert json.loads(build['apps']) == [app]
    assert json.loads(build['parameters']) == [{'name': 'region', 'value': 'eu-hel'}]
    assert json.loads(build['template_parameters']) == [{**definition, 'options': [option]}]


def test_missing_fields_are_empty_and_entries_that_are_not_objects_are_left_out():
    rows = [
        _build(
            apps=[{'slug': 'jupyter'}, 'code-server', {'display_name': 'no slug'}],
            parameters=[{'name': 'cpu', 'value': 4}, {'name': 'debug', 'value': True}, {'name': 'empty'}, 7],
            template_parameters=[{'name': 'cpu', 'options': [{'value': '4'}, None]}, 'region'],
        )
    ]

    [build] = _builds(rows)

    assert json.loads(build['apps']) == [{'agent_id': '', 'slug': 'jupyter', 'display_name': '', 'icon': ''}]
    assert json.loads(build['parameters']) == [
        {'name': 'cpu', 'value': '4'},
        {'name': 'debug', 'value': 'true'},
        {'name': 'empty', 'value': ''},
    ]
    assert json.loads(build['template_parameters']) == [
        {
            'name': 'cpu',
            'display_name': '',
            'type': '',
            'description': '',
            'options': [{'name': '', 'description': '', 'value': '4', 'icon': ''}],
        }
    ]


def test_a_build_defines_each_slug_once_the_first_listed():
    apps = [
        {'agent_id': 'a1', 'slug': 'jupyter', 'display_name': 'Jupyter', 'icon': '/a.svg'},
        {'agent_id': 'a2', 'slug': 'jupyter', 'display_name': 'JupyterLab', 'icon': '/b.svg'},
    ]

    [build] = _builds([_build(apps=apps)])

    assert json.loads(build['apps']) == apps[:1]


def test_unreadable_properties_and_numbers_make_an_empty_build_numbered_zero():
    rows = [_row(NINE, 'not json'), _build(NINE + timedelta(minutes=1), number='3'), _row(NINE, '[1]')]

    assert [(b['workspace_id'], b['build_number'], b['apps']) for b in _builds(rows)] == [
        ('', 0, '[]'),
        ('', 0, '[]'),
        ('w1', 0, '[]'),
    ]


def test_a_template_that_is_not_a_uuid_is_none_and_a_uuid_is_written_canonically():
    rows = [_row(NINE, {}, template='legacy-template'), _row(NINE, {}, template=TEMPLATE.upper())]

    assert sorted(b['template_id'] or '' for b in _builds(rows)) == ['', TEMPLATE]


def test_only_build_events_of_the_window_count_and_a_resent_event_counts_once_as_first_received():
    event_id = str(uuid.uuid4())
    rows = [
        _build(number=2, row={'event_id': event_id, 'received_at': NINE + timedelta(minutes=5)}),
        _build(number=1, row={'event_id': event_id, 'received_at': NINE + timedelta(minutes=1)}),
        _build(DAY[0] - timedelta(milliseconds=1), number=7),
        _build(DAY[1], number=8),
        _row(NINE, {'build_number': 9}, name='workspace.agent_stats'),
        _build(DAY[0], number=3),
    ]

    assert [b['build_number'] for b in _builds(rows)] == [3, 1]


def test_the_rollup_writes_the_days_builds_next_to_its_buckets(monkeypatch):
    settings = get_settings()
    day = date(2026, 11, 2)
    rows = [_build(DAY[0] - timedelta(hours=1), number=1), _build(NINE, number=2)]  # the day before is read too
    written: dict[str, bytes] = {}
    monkeypatch.setattr(usage_rollup, '_lake_rows', lambda *_: pa.Table.from_pylist(rows, schema=FILE_SCHEMA))
    monkeypatch.setattr(usage_rollup.s3, 'put_object', lambda bucket, key, body: written.__setitem__(key, body))
    monkeypatch.setattr(usage_rollup.dynamodb, 'put_daily_active_users', lambda *_: None)

    usage_rollup.recompute_day('7', day, settings)

    key = builds_key(settings.USAGE_PREFIX, '7', day)
    assert key == 'usage/project_id=7/dt=2026-11-02/builds.parquet'
    assert usage_rollup.bucket_key(settings.USAGE_PREFIX, '7', day) in written
    builds = pq.read_table(io.BytesIO(written[key]))
    assert builds.schema == BUILD_SCHEMA
    assert builds.column('build_number').to_pylist() == [2]
