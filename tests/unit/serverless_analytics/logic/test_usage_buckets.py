"""Usage buckets from lake rows, each rule of the insights mapping (§2) with hand-computed expectations."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.usage_buckets import usage_buckets

TEMPLATE = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
OTHER_TEMPLATE = '0b7a5a3e-6f8e-4c33-9f0a-3c2e1d4b5a69'
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))


def _row(name: str, at: datetime, properties: dict[str, Any], template: str | None = TEMPLATE, **fields: Any) -> dict:
    return {
        'event_id': fields.pop('event_id', str(uuid.uuid4())),
        'name': name,
        'timestamp': at,
        'received_at': fields.pop('received_at', at),
        'user_id': fields.pop('user_id', 'u1'),
        'template_id': template,
        'properties': json.dumps(properties),
        **fields,
    }


def _report(at: datetime, connections: int = 1, latency: float = 0.0, **sessions: int) -> dict:
    counts = {f'session_count_{name}': count for name, count in sessions.items()}
    return _row(
        'workspace.agent_stats',
        at,
        {'connection_count': connections, 'connection_median_latency_ms': latency, **counts},
    )


def _app_send(start: str, end: str, requests: int, received: datetime, session: str = 's1', **properties: Any) -> dict:
    sent = {'agent_id': 'a1', 'access_method': 'path', 'slug_or_port': 'code-server'}
    sent |= {'session_started_at': start, 'session_ended_at': end, 'requests': requests, **properties}
    return _row('workspace.app_session', NINE, sent, received_at=received, session_id=session)


def _buckets(rows: list[dict], window: tuple[datetime, datetime] = DAY) -> list[dict]:
    return usage_buckets(pa.Table.from_pylist(rows, schema=FILE_SCHEMA), *window).to_pylist()


def _every_30_seconds(count: int, start: datetime = NINE, **report: Any) -> list[dict]:
    return [_report(start + timedelta(seconds=30 * i), **report) for i in range(count)]


def test_agent_reports_make_their_minutes_active_for_each_builtin_with_sessions():
    rows = _every_30_seconds(20, ssh=1) + _every_30_seconds(6, jetbrains=2, sftp=1)

    [bucket] = _buckets(rows)

    assert bucket['bucket_start'] == NINE
    assert (bucket['usage_minutes'], bucket['ssh_minutes'], bucket['jetbrains_minutes'], bucket['sftp_minutes']) == (
        10,
        10,
        3,
        3,
    )
    assert (bucket['vscode_minutes'], bucket['reconnecting_pty_minutes'], bucket['app_minutes']) == (0, 0, '{}')


def test_an_agents_minutes_count_only_in_a_bucket_where_it_had_a_connection():
    unconnected = _every_30_seconds(10, connections=0, vscode=1)
    connected_later = _every_30_seconds(4, start=NINE + timedelta(minutes=30), connections=3, vscode=1)

    assert [(b['bucket_start'], b['vscode_minutes']) for b in _buckets(unconnected + connected_later)] == [
        (NINE + timedelta(minutes=30), 2)
    ]


def test_the_latency_median_is_of_active_minutes_and_stored_as_a_32_bit_float():
    rows = [
        _report(NINE, latency=15.1, ssh=1),
        _report(NINE + timedelta(minutes=1), latency=0.0, ssh=1),  # no latency: left out, not a zero
        # no session, but its minute is active through the app session below: its latency counts
        _report(NINE + timedelta(minutes=5), latency=15.1),
        # no session and its minute is not active: left out
        _report(NINE + timedelta(minutes=20), latency=99.0),
        _app_send('2026-11-02T09:05:00Z', '2026-11-02T09:06:00Z', 1, NINE),
    ]

    [bucket] = _buckets(rows)

    assert bucket['median_latency_ms'] == 15.100000381469727
    assert bucket['usage_minutes'] == 3


def test_an_app_session_is_its_sends_folded_as_coders_upsert_and_counted_by_minute():
    rows = [
        _app_send('2026-11-02T09:00:00Z', '2026-11-02T09:10:00Z', 5, NINE),
        _app_send('2026-11-02T09:00:00Z', '2026-11-02T10:30:00Z', 4, NINE + timedelta(minutes=1)),  # fewer requests
        _app_send('2026-11-02T09:00:00Z', '2026-11-02T09:40:00Z', 7, NINE + timedelta(minutes=2)),
    ]

    buckets = _buckets(rows)

    # 09:00-09:40: the refused send's 10:30 end never counts
    assert [(b['bucket_start'].strftime('%H:%M'), json.loads(b['app_minutes'])) for b in buckets] == [
        ('09:00', {'code-server': 30}),
        ('09:30', {'code-server': 10}),
    ]


def test_a_web_terminal_session_is_its_own_key_and_its_last_minute_is_the_one_before_its_end():
    rows = [
        _app_send('2026-11-02T09:10:00Z', '2026-11-02T09:12:00Z', 1, NINE, access_method='terminal', slug_or_port='')
    ]

    [bucket] = _buckets(rows)

    assert (bucket['usage_minutes'], json.loads(bucket['app_minutes'])) == (2, {'[terminal]': 2})


def test_other_events_are_activity_and_a_template_that_is_no_uuid_is_no_template():
    rows = [
        _row('page_view', NINE, {}, template='not-a-uuid'),
        _row('page_view', NINE + timedelta(seconds=20), {}, template=None),
        _row('page_view', NINE + timedelta(minutes=3), {}, template=TEMPLATE.upper()),
        _row('workspace.build', NINE, {}),  # a build is no activity
        _row('user.created', NINE, {'status': 'active'}, template=None),
    ]

    buckets = _buckets(rows)

    assert [(b['template_id'], b['usage_minutes']) for b in buckets] == [(None, 1), (TEMPLATE, 1)]


def test_usage_is_the_union_of_minutes_per_template_and_user():
    rows = [
        *_every_30_seconds(4, ssh=1),  # 09:00, 09:01
        _app_send('2026-11-02T09:01:00Z', '2026-11-02T09:03:00Z', 1, NINE),  # 09:01, 09:02
        _row('page_view', NINE + timedelta(minutes=2, seconds=59), {}),  # 09:02
        _row('page_view', NINE, {}, template=OTHER_TEMPLATE),
        _row('page_view', NINE, {}, user_id='u2'),
    ]

    assert [(b['template_id'], b['user_id'], b['usage_minutes']) for b in _buckets(rows)] == [
        (OTHER_TEMPLATE, 'u1', 1),
        (TEMPLATE, 'u1', 3),
        (TEMPLATE, 'u2', 1),
    ]


def test_only_the_buckets_of_the_window_are_given_and_a_copy_of_an_event_counts_once():
    page_view = _row('page_view', NINE, {}, event_id='6f1c2d3e-0000-4000-8000-000000000001')
    copy = {**page_view, 'received_at': NINE + timedelta(hours=1)}
    late_session = _app_send('2026-11-01T23:50:00Z', '2026-11-02T00:10:00Z', 1, NINE)

    buckets = _buckets([page_view, copy, late_session])

    assert [(b['bucket_start'].strftime('%d %H:%M'), b['usage_minutes']) for b in buckets] == [
        ('02 00:00', 10),  # the session started the day before reaches into this day
        ('02 09:00', 1),
    ]


@pytest.mark.parametrize('hours', [0, 1])
def test_an_empty_lake_gives_no_buckets(hours):
    window = (NINE, NINE + timedelta(hours=hours))
    assert _buckets([], window) == []
