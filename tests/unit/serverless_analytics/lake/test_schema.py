"""One event schema: the canonical event (models.event) is the lake's row schema and what the stream writer
accepts, and the export's own column list agrees with it. (The Glue table's check is in tests/unit/test_template.py.)"""

import json
from datetime import UTC, datetime
from types import NoneType
from typing import get_args, get_type_hints

import pyarrow as pa
import pytest

from serverless_analytics.lake.schema import REQUIRED_COLUMNS, ROW_SCHEMA, STRINGS, TIMESTAMP, lake_type
from serverless_analytics.logic.export_events import exported_event
from serverless_analytics.logic.export_sql import EVENT_COLUMNS, LIST_COLUMNS
from serverless_analytics.models.event import CanonicalEvent
from tests.unit.serverless_analytics.conftest import stream_record_data

CANONICAL = get_type_hints(CanonicalEvent)
EVERY_INPUT = {
    'event_name': 'signup',
    'properties': {'plan': 'pro'},
    'timestamp': '2026-11-22T11:59:00Z',
    'sent_at': '2026-11-22T11:59:30Z',
    'session_id': 's1',
    'page_url': 'https://example.com/pricing?x=1',
    'referrer': 'https://search.example.org/',
    'user_agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'user': {'id': 'u1', 'realm': ['r'], 'groups': ['g'], 'roles': ['admin'], 'username': 'ann', 'avatar_url': 'a'},
    'page_title': 'Pricing',
    'app_name': 'docs',
    'app_version': '1.2',
    'tenant_id': 't1',
    'content_locale': 'en-US',
    'ui_locale': 'fr-FR',
    'offline': True,
    'template_id': 'tpl',
}


def test_the_row_schema_is_the_canonical_events_fields_in_their_order():
    assert ROW_SCHEMA.names == list(CANONICAL)


@pytest.mark.parametrize(
    ('name', 'column_type'),
    [
        ('event_id', pa.string()),
        ('category', pa.string()),  # a Literal of strings
        ('timestamp', TIMESTAMP),
        ('sent_at', TIMESTAMP),  # may be None
        ('user_roles', STRINGS),
        ('offline', pa.bool_()),
        ('properties', pa.string()),  # JSON text
    ],
)
def test_columns_have_the_lake_type_of_their_fields_type(name, column_type):
    assert ROW_SCHEMA.field(name).type == column_type
    assert ROW_SCHEMA.field(name).nullable


@pytest.mark.parametrize('annotation', [int, dict[str, str], str | int])
def test_a_field_of_a_type_the_lake_has_no_column_for_is_refused_by_name(annotation):
    with pytest.raises(TypeError, match='seats'):
        lake_type('seats', annotation)


def test_the_required_columns_are_fields_the_canonical_event_always_has():
    assert all(NoneType not in get_args(CANONICAL[name]) for name in REQUIRED_COLUMNS)


def test_the_ingest_api_puts_on_the_stream_only_fields_the_writer_accepts():
    record = json.loads(stream_record_data(**EVERY_INPUT))

    assert [name for name in ROW_SCHEMA.names if name in record] == list(record)
    assert len(record) > len(ROW_SCHEMA.names) - 5  # nearly every field set (a test of a few would prove little)


def test_the_export_selects_event_columns_in_their_canonical_order():
    assert [name for name in CANONICAL if name in EVENT_COLUMNS] == list(EVENT_COLUMNS)


def test_the_exports_list_columns_are_its_columns_of_lists():
    # Athena renders a list as `[a, b]`, ambiguous with commas: each list column must go out as JSON.
    assert [name for name in EVENT_COLUMNS if CANONICAL[name] == list[str]] == list(LIST_COLUMNS)


@pytest.mark.parametrize('dropped', EVENT_COLUMNS)
def test_the_export_shows_every_column_it_selects(dropped):
    # Athena bills the bytes of every column scanned: a selected column nothing shows would be paid for nothing.
    row = {name: _sample(name) for name in EVENT_COLUMNS if name != dropped}

    with pytest.raises(KeyError, match=dropped):
        exported_event(row)


def _sample(name: str):
    column_type = ROW_SCHEMA.field(name).type
    return {TIMESTAMP: datetime(2026, 11, 22, tzinfo=UTC), pa.bool_(): True, STRINGS: ['x']}.get(column_type, 'x')
