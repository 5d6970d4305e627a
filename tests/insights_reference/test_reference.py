"""The reference checked against hand-computed expectations, one rule at a time, and the generator's contract."""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from local.coder_telemetry import (
    PORTS,
    agent_stats_event,
    app_session_event,
    batches,
    build_event,
    generate,
    page_view_event,
    parameter_definition,
    user_body,
    user_event,
)
from tests.insights_reference import reference

T1 = '10000000-0000-4000-8000-000000000001'
T2 = '20000000-0000-4000-8000-000000000002'
T3 = '30000000-0000-4000-8000-000000000003'
U1 = 'a0000000-0000-4000-8000-00000000000a'
U2 = 'b0000000-0000-4000-8000-00000000000b'
U3 = 'c0000000-0000-4000-8000-00000000000c'
U4 = 'd0000000-0000-4000-8000-00000000000d'
ALICE = user_body(U1, 'alice', 'https://avatars.example.com/alice.png')
BOB = user_body(U2, 'bob', '')
CAROL = user_body(U3, 'carol', '')
DAVE = user_body(U4, 'dave', '')
WORKSPACE = 'f0000000-0000-4000-8000-00000000000f'
AGENT = 'e0000000-0000-4000-8000-00000000000e'
PLUS_TWO = timezone(timedelta(hours=2))
NOW = datetime(2024, 3, 15, 10, 20, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def reports(user, template_id, first: str, count: int, **fields) -> list[dict]:
    """`count` agent reports 30 s apart from `first`."""
    start = utc(first)
    return [
        agent_stats_event(start + index * timedelta(seconds=30), user, template_id, WORKSPACE, AGENT, **fields)
        for index in range(count)
    ]


def app_session(user, template_id, started: str, ended: str, slug='code-server', session_id='s1', **fields) -> dict:
    return app_session_event(
        utc(started), utc(ended), user, template_id, WORKSPACE, AGENT, session_id, slug_or_port=slug, **fields
    )


def catalogue_build(template_id: str, at: str, *apps: tuple[str, str, str], workspace_id=WORKSPACE) -> dict:
    definitions = [{'agent_id': AGENT, 'slug': slug, 'display_name': name, 'icon': icon} for slug, name, icon in apps]
    return build_event(utc(at), ALICE, template_id, workspace_id=workspace_id, build_number=1, apps=definitions)


def insights(events, start: datetime, end: datetime, **options) -> dict:
    return reference.template_insights(
        reference.usage_buckets(events),
        reference.app_catalogue(events),
        reference.workspace_builds(events),
        start,
        end,
        **options,
    )


def app_entry(body: dict, slug: str) -> dict:
    return next(app for app in body['report']['apps_usage'] if app['slug'] == slug)


DAY_START = utc('2024-03-04T00:00:00')
DAY_END = utc('2024-03-05T00:00:00')


# --- §2 buckets ---------------------------------------------------------------------------------------------


def test_agent_reports_make_their_minutes_active_per_builtin():
    events = reports(ALICE, T1, '2024-03-04T09:00:00', 20, ssh=1) + reports(
        ALICE, T1, '2024-03-04T09:00:10', 10, vscode=1
    )

    bucket = reference.usage_buckets(events)[utc('2024-03-04T09:00:00'), T1, U1]

    assert bucket.usage_minutes == 10
    assert bucket.builtin_minutes == {'vscode': 5, 'jetbrains': 0, 'reconnecting_pty': 0, 'ssh': 10, 'sftp': 0}


def test_a_half_hour_without_connections_drops_its_agent_minutes():
    no_connection = reports(ALICE, T1, '2024-03-04T09:00:00', 10, ssh=1, connection_count=0)
    # a zero-session report's connection does not open the gate: Coder's rollup looks only at session reports
    idle_but_connected = reports(ALICE, T1, '2024-03-04T09:20:00', 1, connection_count=2)
    one_connected = reports(ALICE, T1, '2024-03-04T09:30:00', 10, ssh=1, connection_count=0) + reports(
        ALICE, T1, '2024-03-04T09:50:00', 1, ssh=1, connection_count=1
    )

    buckets = reference.usage_buckets(no_connection + idle_but_connected + one_connected)

    assert list(buckets) == [(utc('2024-03-04T09:30:00'), T1, U1)]
    assert buckets[utc('2024-03-04T09:30:00'), T1, U1].builtin_minutes['ssh'] == 6


def test_sftp_minutes_come_only_from_session_count_sftp():
    sftp_only = reports(ALICE, T1, '2024-03-04T09:00:00', 2, sftp=1)
    ssh_without_sftp_key = reports(ALICE, T1, '2024-03-04T09:05:00', 2, ssh=1)

    bucket = reference.usage_buckets(sftp_only + ssh_without_sftp_key)[utc('2024-03-04T09:00:00'), T1, U1]

    assert bucket.usage_minutes == 2
    assert bucket.builtin_minutes['sftp'] == 1
    assert bucket.builtin_minutes['ssh'] == 1


def test_app_session_minutes_run_from_its_start_minute_to_the_minute_before_its_end():
    events = [
        app_session(ALICE, T1, '2024-03-04T09:00:30', '2024-03-04T09:03:00', session_id='a'),
        app_session(ALICE, T1, '2024-03-04T09:29:10', '2024-03-04T09:31:05', slug='8080', session_id='b'),
        app_session(ALICE, T1, '2024-03-04T09:40:00', '2024-03-04T09:41:00', slug='', access_method='terminal'),
    ]

    buckets = reference.usage_buckets(events)

    first, second = buckets[utc('2024-03-04T09:00:00'), T1, U1], buckets[utc('2024-03-04T09:30:00'), T1, U1]
    assert first.app_minutes == {'code-server': 3, '8080': 1}
    assert first.usage_minutes == 4
    assert second.app_minutes == {'8080': 2, '[terminal]': 1}


def test_a_resent_app_session_grows_only_when_end_and_requests_both_grow():
    sends = [
        app_session(ALICE, T1, '2024-03-04T10:00:00', '2024-03-04T10:10:00', requests=5),
        app_session(ALICE, T1, '2024-03-04T10:00:00', '2024-03-04T10:20:00', requests=9),
        app_session(ALICE, T1, '2024-03-04T10:00:00', '2024-03-04T10:15:00', requests=20),  # smaller end: ignored
        app_session(ALICE, T1, '2024-03-04T10:00:00', '2024-03-04T10:25:00', requests=3),  # fewer requests: ignored
    ]

    bucket = reference.usage_buckets(sends)[utc('2024-03-04T10:00:00'), T1, U1]

    assert bucket.app_minutes == {'code-server': 20}


def test_a_resent_event_id_counts_once():
    view = page_view_event(utc('2024-03-04T09:00:00'), ALICE, event_id='0e000000-0000-4000-8000-000000000001')

    assert len(reference.unique_events([view, dict(view), {**view, 'event_id': view['event_id'].upper()}])) == 1


def test_other_events_are_activity_and_a_non_uuid_template_is_no_template():
    events = [
        page_view_event(utc('2024-03-04T09:00:05'), ALICE, template_id=T1),
        page_view_event(utc('2024-03-04T09:01:00'), ALICE, template_id='legacy-template'),
        page_view_event(utc('2024-03-04T09:02:00'), ALICE, offset=timedelta(hours=2)),  # sent as 11:02+02:00
        user_event('user.created', utc('2024-03-04T09:10:00'), BOB, status='active'),
        build_event(utc('2024-03-04T09:11:00'), BOB, T1, workspace_id=WORKSPACE, build_number=1),
    ]

    buckets = reference.usage_buckets(events)

    assert {key: bucket.usage_minutes for key, bucket in buckets.items()} == {
        (utc('2024-03-04T09:00:00'), T1, U1): 1,
        (utc('2024-03-04T09:00:00'), None, U1): 2,
    }


def test_latency_is_the_median_of_reports_in_active_minutes_as_a_32_bit_float():
    events = [
        *reports(ALICE, T1, '2024-03-04T09:00:00', 1, ssh=1, latency_ms=10.0),
        *reports(ALICE, T1, '2024-03-04T09:00:30', 1, ssh=1, latency_ms=20.0),
        *reports(ALICE, T1, '2024-03-04T09:01:00', 1, ssh=1, latency_ms=0.0),  # no latency
        *reports(ALICE, T1, '2024-03-04T09:05:00', 1, latency_ms=100.0),  # inactive minute
        app_session(ALICE, T1, '2024-03-04T09:10:00', '2024-03-04T09:11:00'),
        *reports(ALICE, T1, '2024-03-04T09:10:15', 1, latency_ms=30.0),  # zero sessions, active minute
        *reports(ALICE, T2, '2024-03-04T09:00:00', 1, ssh=1, latency_ms=15.1),
        *reports(ALICE, T3, '2024-03-04T09:00:00', 1, ssh=1, latency_ms=0.0),
    ]

    buckets = reference.usage_buckets(events)

    assert buckets[utc('2024-03-04T09:00:00'), T1, U1].median_latency_ms == 20.0
    assert buckets[utc('2024-03-04T09:00:00'), T2, U1].median_latency_ms == 15.100000381469727
    assert buckets[utc('2024-03-04T09:00:00'), T3, U1].median_latency_ms is None


def test_percentile_cont_interpolates_between_ranks():
    assert reference.percentile_cont([10.0, 20.0], 0.5) == 15.0
    assert reference.percentile_cont([40.0, 10.0, 30.0, 20.0], 0.95) == 38.5
    assert reference.percentile_cont([7.0], 0.95) == 7.0


# --- §4 answers ---------------------------------------------------------------------------------------------


def test_times_used_counts_runs_of_consecutive_buckets():
    events = [
        catalogue_build(T1, '2024-03-04T08:00:00', ('code-server', 'code-server', '/icon/code.svg')),
        app_session(ALICE, T1, '2024-03-04T09:00:00', '2024-03-04T11:00:00', session_id='morning'),
        app_session(ALICE, T1, '2024-03-04T14:00:00', '2024-03-04T14:10:00', session_id='afternoon'),
        app_session(BOB, T1, '2024-03-04T09:00:00', '2024-03-04T09:20:00', session_id='bob'),
    ]

    morning_only = insights(events[:2], DAY_START, DAY_END)
    everything = insights(events, DAY_START, DAY_END)

    assert app_entry(morning_only, 'code-server')['times_used'] == 1
    assert app_entry(morning_only, 'code-server')['seconds'] == 7200
    assert app_entry(everything, 'code-server')['times_used'] == 3
    assert app_entry(everything, 'code-server')['seconds'] == (120 + 10 + 20) * 60


def test_minutes_of_two_templates_in_one_bucket_are_capped_at_30():
    events = [
        *reports(ALICE, T1, '2024-03-04T09:00:00', 60, ssh=1),  # 30 minutes on each template at once
        *reports(ALICE, T2, '2024-03-04T09:00:00', 60, ssh=1),
        *reports(ALICE, T1, '2024-03-04T10:00:00', 20, ssh=1),  # 10 + 15 minutes: no cap
        *reports(ALICE, T2, '2024-03-04T10:10:00', 30, ssh=1),
    ]
    buckets = reference.usage_buckets(events)

    body = insights(events, DAY_START, DAY_END)
    activity = reference.user_activity(buckets, reference.user_directory(events), DAY_START, DAY_END)
    only_t2 = reference.user_activity(buckets, reference.user_directory(events), DAY_START, DAY_END, [T2])

    assert app_entry(body, 'ssh')['seconds'] == (30 + 25) * 60
    assert app_entry(body, 'ssh')['template_ids'] == [T1, T2]
    assert activity['report']['users'][0]['seconds'] == (30 + 25) * 60
    assert only_t2['report']['users'][0]['seconds'] == (30 + 15) * 60
    assert only_t2['report']['template_ids'] == [T2]


def test_apps_come_only_from_the_template_catalogue_and_the_newest_definition_wins():
    events = [
        catalogue_build(T1, '2024-03-01T08:00:00', ('code-server', 'code-server', '/icon/code.svg')),
        catalogue_build(T1, '2024-03-10T08:00:00', ('code-server', 'VS Code Web', '/icon/code.svg')),  # after
        catalogue_build(T3, '2024-03-01T08:00:00', ('code-server', 'VS Code Web', '/icon/code.svg')),
        catalogue_build(T2, '2024-03-01T08:00:00', ('jupyter', 'Jupyter', '/icon/jupyter.svg')),
        app_session(ALICE, T1, '2024-03-04T09:00:00', '2024-03-04T09:10:00', session_id='a'),
        app_session(BOB, T3, '2024-03-04T09:00:00', '2024-03-04T09:05:00', session_id='b'),
        app_session(ALICE, T2, '2024-03-04T09:00:00', '2024-03-04T09:10:00', session_id='c'),  # not T2's app
        app_session(ALICE, T1, '2024-03-04T12:00:00', '2024-03-04T12:10:00', slug='8080', session_id='d'),
        app_session(ALICE, T1, '2024-03-04T13:00:00', '2024-03-04T13:10:00', slug='', access_method='terminal'),
    ]

    body = insights(events, DAY_START, DAY_END)

    apps = [app for app in body['report']['apps_usage'] if app['type'] == 'app']
    assert apps == [
        {
            'template_ids': [T1, T3],
            'type': 'app',
            'display_name': 'VS Code Web',
            'slug': 'code-server',
            'icon': '/icon/code.svg',
            'seconds': 15 * 60,
            'times_used': 2,
        }
    ]
    assert body['report']['active_users'] == 2


def test_builtins_are_always_listed_first_in_a_fixed_order():
    body = reference.template_insights({}, {}, [], DAY_START, DAY_END)

    assert body == {
        'report': {
            'start_time': '2024-03-04T00:00:00Z',
            'end_time': '2024-03-05T00:00:00Z',
            'template_ids': [],
            'active_users': 0,
            'apps_usage': [
                {
                    'template_ids': [],
                    'type': 'builtin',
                    'display_name': display_name,
                    'slug': slug,
                    'icon': icon,
                    'seconds': 0,
                    'times_used': 0,
                }
                for slug, display_name, icon in (
                    ('vscode', 'Visual Studio Code', '/icon/code.svg'),
                    ('jetbrains', 'JetBrains', '/icon/intellij.svg'),
                    ('reconnecting-pty', 'Web Terminal', '/icon/terminal.svg'),
                    ('ssh', 'SSH', '/icon/terminal.svg'),
                    ('sftp', 'SFTP', '/icon/terminal.svg'),
                )
            ],
            'parameters_usage': [],
        }
    }


def test_interval_reports_list_empty_intervals_and_echo_the_request_offset():
    events = [
        *reports(ALICE, T1, '2024-03-04T21:30:00', 2, ssh=1),  # 23:30 +02:00: the first local day
        *reports(BOB, T2, '2024-03-04T22:00:00', 2, ssh=1),  # 00:00 +02:00: the second
        page_view_event(utc('2024-03-04T22:10:00'), CAROL),  # no template
    ]
    start, end = datetime(2024, 3, 4, tzinfo=PLUS_TWO), datetime(2024, 3, 7, tzinfo=PLUS_TWO)

    body = insights(events, start, end, interval='day', sections=['interval_reports'])

    assert body == {
        'interval_reports': [
            {
                'start_time': '2024-03-04T00:00:00+02:00',
                'end_time': '2024-03-05T00:00:00+02:00',
                'template_ids': [T1],
                'interval': 'day',
                'active_users': 1,
            },
            {
                'start_time': '2024-03-05T00:00:00+02:00',
                'end_time': '2024-03-06T00:00:00+02:00',
                'template_ids': [T2],
                'interval': 'day',
                'active_users': 2,
            },
            {
                'start_time': '2024-03-06T00:00:00+02:00',
                'end_time': '2024-03-07T00:00:00+02:00',
                'template_ids': [],
                'interval': 'day',
                'active_users': 0,
            },
        ]
    }


def test_a_partial_last_week_and_the_omitted_parts():
    events = reports(ALICE, T1, '2024-03-12T09:00:00', 2, ssh=1)
    start, end = utc('2024-03-01T00:00:00'), utc('2024-03-14T00:00:00')

    weekly = insights(events, start, end, interval='week')
    empty_window = insights(events, start, start, interval='day')

    assert [(r['start_time'], r['end_time'], r['active_users']) for r in weekly['interval_reports']] == [
        ('2024-03-01T00:00:00Z', '2024-03-08T00:00:00Z', 0),
        ('2024-03-08T00:00:00Z', '2024-03-14T00:00:00Z', 1),
    ]
    assert 'interval_reports' not in empty_window
    assert 'report' in empty_window
    assert 'interval_reports' not in insights(events, start, end)  # no interval asked


def test_parameters_count_the_latest_build_in_the_window_per_workspace():
    region_a = parameter_definition('region', 'Region', 'string', 'Where', (('Amsterdam', '', 'ams', ''),))
    region_b = parameter_definition('region', 'Region', 'string', 'Where', (('Boston', '', 'bos', ''),))
    dotfiles = parameter_definition('dotfiles_uri', 'Dotfiles', 'string', 'Repository')

    def build(template_id, workspace, number, at, region, definitions=(region_a, dotfiles)):
        values = [{'name': 'region', 'value': region}, {'name': 'dotfiles_uri', 'value': ''}]
        return build_event(
            utc(at),
            ALICE,
            template_id,
            workspace_id=workspace,
            build_number=number,
            parameters=values,
            template_parameters=list(definitions),
        )

    events = [
        build(T1, 'w1', 1, '2024-03-04T01:00:00', 'eu'),
        build(T1, 'w1', 2, '2024-03-04T02:00:00', 'ams'),
        build(T1, 'w1', 3, '2024-03-05T01:00:00', 'zzz'),  # after the window
        build(T2, 'w2', 7, '2024-03-04T03:00:00', 'ams'),
        build(T2, 'w3', 1, '2024-03-03T23:00:00', 'old'),  # before the window
        build(T3, 'w4', 1, '2024-03-04T04:00:00', 'bos', definitions=(region_b,)),
        build(T3, 'w5', 1, '2024-03-04T05:00:00', 'ams', definitions=(region_b,)),
    ]

    usage = insights(events, DAY_START, DAY_END)['report']['parameters_usage']

    assert usage == [
        {
            'template_ids': [T1, T2],
            'display_name': 'Dotfiles',
            'name': 'dotfiles_uri',
            'type': 'string',
            'description': 'Repository',
            'values': [{'value': '', 'count': 2}],
        },
        {
            'template_ids': [T1, T2],
            'display_name': 'Region',
            'name': 'region',
            'type': 'string',
            'description': 'Where',
            'options': [{'name': 'Amsterdam', 'description': '', 'value': 'ams', 'icon': ''}],
            'values': [{'value': 'ams', 'count': 2}],
        },
        {
            'template_ids': [T3],
            'display_name': 'Region',
            'name': 'region',
            'type': 'string',
            'description': 'Where',
            'options': [{'name': 'Boston', 'description': '', 'value': 'bos', 'icon': ''}],
            'values': [{'value': 'ams', 'count': 1}, {'value': 'bos', 'count': 1}],
        },
    ]
    assert insights(events, DAY_START, DAY_END, template_ids=[T3])['report']['parameters_usage'] == usage[2:]


def test_user_latency_takes_percentiles_of_bucket_medians_or_minus_one():
    events = [
        *[
            event
            for hour, latency in ((9, 10.0), (10, 20.0), (11, 30.0), (12, 40.0))
            for event in reports(ALICE, T1, f'2024-03-04T{hour:02d}:00:00', 1, ssh=1, latency_ms=latency)
        ],
        app_session(BOB, T1, '2024-03-04T09:00:00', '2024-03-04T09:10:00'),
    ]

    body = reference.user_latency(reference.usage_buckets(events), reference.user_directory(events), DAY_START, DAY_END)

    assert body['report']['users'] == [
        {
            'template_ids': [T1],
            'user_id': U1,
            'username': 'alice',
            'avatar_url': 'https://avatars.example.com/alice.png',
            'latency_ms': {'p50': 25.0, 'p95': 38.5},
        },
        {
            'template_ids': [T1],
            'user_id': U2,
            'username': 'bob',
            'avatar_url': '',
            'latency_ms': {'p50': -1, 'p95': -1},
        },
    ]


def test_user_activity_with_no_rows_has_empty_lists():
    assert reference.user_activity({}, {}, DAY_START, DAY_END) == {
        'report': {
            'start_time': '2024-03-04T00:00:00Z',
            'end_time': '2024-03-05T00:00:00Z',
            'template_ids': [],
            'users': [],
        }
    }


def test_the_directory_shows_the_latest_event_by_timestamp_not_the_latest_sent():
    events = [
        page_view_event(utc('2024-03-04T09:00:00'), user_body(U1, 'alice', 'a1')),
        page_view_event(utc('2024-03-04T11:00:00'), user_body(U1, 'alice2', 'a3')),
        page_view_event(utc('2024-03-04T10:00:00'), user_body(U1, 'alice-old', 'a2')),  # back-dated, sent last
    ]

    assert reference.user_directory(events) == {U1: ('alice2', 'a3')}


def test_go_time_writes_a_zero_offset_as_z():
    assert reference.go_time(datetime(2024, 3, 4, tzinfo=timezone(timedelta(0)))) == '2024-03-04T00:00:00Z'
    assert reference.go_time(datetime(2024, 3, 4, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))) == (
        '2024-03-04T00:00:00-05:30'
    )


# --- §5 DAUs ------------------------------------------------------------------------------------------------


def dau_buckets() -> dict:
    events = [
        page_view_event(utc('2024-03-14T23:40:00'), ALICE),
        page_view_event(utc('2024-03-15T09:00:00'), BOB, template_id=T1),
        page_view_event(utc('2024-03-15T10:45:00'), CAROL),  # bucket 10:30-11:00 ends at the next full hour
        page_view_event(utc('2024-03-15T11:05:00'), CAROL),  # after it
    ]
    return reference.usage_buckets(events)


def test_daus_are_61_utc_days_labelled_in_the_offset_with_coders_sign_quirk():
    utc_days = reference.daus(dau_buckets(), NOW)
    minus_two = reference.daus(dau_buckets(), NOW, tz_offset=-2)
    plus_three = reference.daus(dau_buckets(), NOW, tz_offset=3)

    assert len(utc_days['entries']) == 61
    assert utc_days['entries'][0] == {'date': '2024-01-15', 'amount': 0}
    assert utc_days['entries'][-2:] == [{'date': '2024-03-14', 'amount': 1}, {'date': '2024-03-15', 'amount': 2}]
    # FixedZone(-2 h): every UTC midnight is 22:00 the day before, so every label is one day early
    assert minus_two['entries'][0]['date'] == '2024-01-14'
    assert minus_two['entries'][-2:] == [{'date': '2024-03-13', 'amount': 1}, {'date': '2024-03-14', 'amount': 2}]
    assert minus_two['tz_hour_offset'] == -2
    assert [entry['date'] for entry in plus_three['entries']] == [entry['date'] for entry in utc_days['entries']]
    assert reference.daus(dau_buckets(), NOW, template_ids=[T1])['entries'][-1] == {'date': '2024-03-15', 'amount': 1}


def test_daus_an_hour_before_utc_midnight_have_60_entries():
    entries = reference.daus(dau_buckets(), utc('2024-03-15T23:10:00'))['entries']

    assert len(entries) == 60
    assert (entries[0]['date'], entries[-1]['date']) == ('2024-01-16', '2024-03-15')


def test_daus_with_a_timezone_use_true_local_midnights():
    events = [
        page_view_event(utc('2024-03-14T23:40:00'), ALICE),  # 00:40 in Paris on the 15th
        page_view_event(utc('2024-03-31T21:40:00'), BOB),  # 23:40 CEST on the 31st (a 23-hour day)
        page_view_event(utc('2024-03-31T22:10:00'), CAROL),  # 00:10 CEST on April 1st
    ]

    body = reference.daus(reference.usage_buckets(events), utc('2024-04-02T10:20:00'), timezone='Europe/Paris')

    amounts = {entry['date']: entry['amount'] for entry in body['entries'] if entry['amount']}
    assert len(body['entries']) == 61
    assert body['entries'][0]['date'] == '2024-02-02'
    assert amounts == {'2024-03-15': 1, '2024-03-31': 1, '2024-04-01': 1}
    assert body['tz_hour_offset'] == 0


# --- §5 user status counts ----------------------------------------------------------------------------------


def counts_of(body: dict, status: str) -> dict[str, int]:
    return {point['date'][:10]: point['count'] for point in body['status_counts'][status]}


def test_a_deleted_user_counts_until_the_instant_of_deletion():
    events = [
        user_event('user.created', utc('2024-01-01T08:00:00'), ALICE, status='active'),
        user_event('user.deleted', utc('2024-03-05T12:00:00'), ALICE),
        user_event('user.created', utc('2024-01-01T08:00:00'), BOB, status='active'),
        user_event('user.deleted', utc('2024-03-10T00:00:00'), BOB),  # exactly at a point: gone at it
    ]

    body = reference.user_status_counts(*reference.status_history(events), NOW)

    active = counts_of(body, 'active')
    assert list(body['status_counts']) == ['active']
    assert len(active) == 61
    assert (active['2024-01-15'], active['2024-03-05'], active['2024-03-06']) == (2, 2, 1)
    assert (active['2024-03-09'], active['2024-03-10'], active['2024-03-15']) == (1, 0, 0)


def test_status_counts_snapshot_each_point_with_every_status_that_occurs():
    events = [
        user_event('user.created', utc('2024-01-01T08:00:00'), ALICE, status='active'),
        user_event('user.status_changed', utc('2024-03-05T09:00:00'), ALICE, status='suspended'),
        user_event('user.status_changed', utc('2024-03-07T09:00:00'), ALICE, status='active'),
        # dormant, then deleted, before the window: neither the user nor 'dormant' appears from it
        user_event('user.created', utc('2023-10-01T08:00:00'), BOB, status='dormant'),
        user_event('user.deleted', utc('2023-12-01T08:00:00'), BOB),
        # changes after the last point (00:00) but before the next full hour (11:00): counted nowhere, yet
        # 'dormant' occurs and gets zeros
        page_view_event(utc('2024-03-15T10:05:00'), CAROL),
        user_event('user.created', utc('2024-01-01T08:00:00'), DAVE, status='active'),
        user_event('user.status_changed', utc('2024-03-15T10:05:00'), DAVE, status='dormant'),
    ]

    body = reference.user_status_counts(*reference.status_history(events), NOW)

    assert list(body['status_counts']) == ['active', 'dormant', 'suspended']
    assert set(counts_of(body, 'dormant').values()) == {0}
    suspended = counts_of(body, 'suspended')
    assert (suspended['2024-03-05'], suspended['2024-03-06'], suspended['2024-03-07'], suspended['2024-03-08']) == (
        0,
        1,
        1,
        0,
    )
    assert counts_of(body, 'active')['2024-03-15'] == 2
    assert body['status_counts']['active'][0] == {'date': '2024-01-15T00:00:00Z', 'count': 2}


def first_and_last(points: list[datetime]) -> tuple[str, str, int]:
    return reference.utc_text(points[0]), reference.utc_text(points[-1]), len(points)


def test_status_points_follow_the_offset_the_interval_and_the_timezone():

    assert first_and_last(reference.status_points(NOW)) == ('2024-01-15T00:00:00Z', '2024-03-15T00:00:00Z', 61)
    assert first_and_last(reference.status_points(NOW, tz_offset=-2)) == (
        '2024-01-15T02:00:00Z',
        '2024-03-15T02:00:00Z',
        61,
    )
    assert first_and_last(reference.status_points(NOW, tz_offset=2)) == (
        '2024-01-14T22:00:00Z',
        '2024-03-14T22:00:00Z',
        61,
    )
    assert first_and_last(reference.status_points(NOW, interval=43200)) == (
        '2024-01-15T00:00:00Z',
        '2024-03-15T00:00:00Z',
        121,
    )
    paris = [
        reference.utc_text(p) for p in reference.status_points(utc('2024-04-02T10:20:00'), timezone='Europe/Paris')
    ]
    assert (paris[0], paris[-1], len(paris)) == ('2024-02-01T23:00:00Z', '2024-04-01T22:00:00Z', 61)
    assert paris[paris.index('2024-03-30T23:00:00Z') + 1] == '2024-03-31T22:00:00Z'  # the 23-hour day


def test_dormancy_after_90_silent_days_and_reactivation_at_the_next_event():
    events = [
        user_event('user.created', utc('2023-10-01T08:00:00'), ALICE, status='active'),
        page_view_event(utc('2023-10-02T10:00:00'), ALICE),
        page_view_event(utc('2024-02-10T15:00:00'), ALICE),
        user_event('user.created', utc('2023-10-01T08:00:00'), BOB, status='active'),
        user_event('user.status_changed', utc('2023-10-02T08:00:00'), BOB, status='suspended'),
        page_view_event(utc('2023-10-02T10:00:00'), CAROL),  # created at its first event; exactly 90 days on 12-31
    ]
    runs = [utc('2023-10-01T10:00:00') + index * timedelta(days=1) for index in range(167)]  # to 2024-03-15

    history = reference.status_history(events, runs)
    body = reference.user_status_counts(*history, NOW)

    assert [(change.status, change.at) for change in history.changes if change.user_id == U1] == [
        ('active', utc('2023-10-01T08:00:00')),
        ('dormant', utc('2024-01-01T10:00:00')),  # the first run more than 90 days after 2023-10-02T10:00
        ('active', utc('2024-02-10T15:00:00')),
    ]
    assert [(change.status, change.at) for change in history.changes if change.user_id == U3] == [
        ('active', utc('2023-10-02T10:00:00')),
        ('dormant', utc('2024-01-01T10:00:00')),  # not on 12-31 10:00, exactly 90 days
    ]
    assert [change.status for change in history.changes if change.user_id == U2] == ['active', 'suspended']
    dormant = counts_of(body, 'dormant')
    assert (dormant['2024-01-15'], dormant['2024-02-10'], dormant['2024-02-11']) == (2, 2, 1)


# --- the generator ------------------------------------------------------------------------------------------


def test_the_generator_is_deterministic():
    first = generate(seed=7, days=5, users=5, templates=2)
    again = generate(seed=7, days=5, users=5, templates=2)
    other = generate(seed=8, days=5, users=5, templates=2)

    assert first.events == again.events
    assert first.events != other.events
    assert all(first.start <= reference.moment_of(event['timestamp']) < first.end for event in first.events)


def test_generated_events_are_valid_batch_bodies():
    from serverless_analytics.models.event import TrackBatchRequest

    for body in batches(generate(seed=2, days=3, users=8, templates=3).events):
        TrackBatchRequest.model_validate(body)


@pytest.fixture(scope='module')
def fortnight():
    return generate(seed=11, days=14, users=8, templates=3)


def test_the_generator_exercises_the_app_session_rules(fortnight):
    sessions = [event for event in fortnight.events if event['event_name'] == 'workspace.app_session']
    keys = Counter(event['properties']['slug_or_port'] or event['properties']['access_method'] for event in sessions)
    kept_end: dict[str, str] = {}
    shrinking = 0
    for event in sessions:
        end = event['properties']['session_ended_at']
        shrinking += event['session_id'] in kept_end and end < kept_end[event['session_id']]
        kept_end[event['session_id']] = max(end, kept_end.get(event['session_id'], end))

    assert {'terminal', 'legacy-tool', 'code-server'} <= set(keys)
    assert set(PORTS) & set(keys)
    assert shrinking > 0
    assert len(reference.unique_events(fortnight.events)) < len(fortnight.events)


def test_the_generator_exercises_the_bucket_rules(fortnight):
    buckets = reference.usage_buckets(fortnight.events)
    minutes_per_slot = Counter()
    for (start, _, user_id), bucket in buckets.items():
        minutes_per_slot[start, user_id] += bucket.usage_minutes
    app_uses = {
        (start, template_id, user_id, key)
        for (start, template_id, user_id), b in buckets.items()
        for key in b.app_minutes
    }
    reports = [event for event in fortnight.events if event['event_name'] == 'workspace.agent_stats']

    assert max(minutes_per_slot.values()) > 30  # the cap at 30 matters
    assert any((start + timedelta(minutes=30), *rest) in app_uses for start, *rest in app_uses)  # times_used runs
    assert any(key[1] is None for key in buckets)  # page views without a (UUID) template
    assert any(bucket.median_latency_ms is None for bucket in buckets.values())
    assert any(  # half-hours the connection gate drops
        event['properties']['connection_count'] == 0 and event['properties']['session_count_ssh'] for event in reports
    )
    assert any(  # medians from zero-session reports in minutes active through apps
        bucket.median_latency_ms is not None and not any(bucket.builtin_minutes.values()) for bucket in buckets.values()
    )
    assert any(event['properties'].get('session_count_sftp') for event in reports)
    assert any('session_count_sftp' not in event['properties'] for event in reports)
    assert any(event['properties']['connection_median_latency_ms'] == 0 for event in reports)


def test_the_generator_exercises_the_directory_catalogue_and_lifecycle(fortnight):
    names = Counter(event['event_name'] for event in fortnight.events)
    stamps = [reference.moment_of(event['timestamp']) for event in fortnight.events]
    catalogue_names = {
        (app['slug'], app['display_name'])
        for event in fortnight.events
        if event['event_name'] == 'workspace.build'
        for app in event['properties']['apps']
    }

    assert {'user.created', 'user.status_changed', 'user.deleted', 'page_view', 'workspace.build'} <= set(names)
    assert any(later < earlier - timedelta(hours=1) for earlier, later in zip(stamps, stamps[1:], strict=False))
    assert any(event.get('template_id') == 'legacy-template' for event in fortnight.events)
    assert any(event['timestamp'].endswith('+02:00') for event in fortnight.events)
    assert {('jupyter', 'Jupyter Notebook'), ('jupyter', 'JupyterLab')} <= catalogue_names or {
        ('filebrowser', 'File Browser'),
        ('filebrowser', 'Files'),
    } <= catalogue_names
    assert len({event['user']['avatar_url'] for event in fortnight.events}) > len(fortnight.user_ids)


def test_a_long_generated_world_has_a_user_who_becomes_dormant_and_returns():
    world = generate(seed=5, days=100, users=7, templates=0)  # no templates: page views only, quick
    runs = [world.start + timedelta(days=day, hours=3) for day in range(101)]

    history = reference.status_history(world.events, runs)

    returning = next(user_id for user_id, role in world.roles.items() if role == 'returning')
    assert [change.status for change in history.changes if change.user_id == returning] == [
        'active',
        'dormant',
        'active',
    ]
