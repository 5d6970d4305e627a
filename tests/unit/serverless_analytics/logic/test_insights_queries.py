"""The template insights, user activity and user latency answers in SQL over the usage rollup.

Generated telemetry (local/coder_telemetry.py) goes through ingestion's enrichment into lake rows, is
rolled up day by day by the rollup's own functions into a lake directory, and every answer over many random
windows, template sets, intervals and sections is compared with the independent reference
(tests/insights_reference/reference.py), with the app catalogue the rollup keeps and without (a lake from before
it). Hand-computed cases pin each rule on buckets and builds written by hand; the statements are checked to prune
partitions, on DuckDB and in Athena's dialect, and no builds file outside the window to be read.
"""

import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from local import coder_telemetry as generator
from local.environment import local_client
from local.lake_engine import LocalLakeDuckDBEngine
from local.moto_server import LocalMotoServer
from local.template import REGION
from serverless_analytics.config import get_settings
from serverless_analytics.engines import AthenaEngine, DuckDBEngine, QueryEngine, QueryExecutionError, QueryResult
from serverless_analytics.lake.records import decode, to_file_schema
from serverless_analytics.logic.app_catalogue import catalogue_key, merged_catalogue
from serverless_analytics.logic.enrich import RequestContext, enrich
from serverless_analytics.logic.ingest import to_stream_record
from serverless_analytics.logic.insights_queries import template_insights, user_activity, user_latency
from serverless_analytics.logic.usage_buckets import BUCKET_SCHEMA, usage_buckets
from serverless_analytics.logic.usage_rollup import bucket_key
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA, builds_key, workspace_builds
from serverless_analytics.models.event import TrackEventRequest
from serverless_analytics.models.insights import InsightsReportInterval, TemplateInsightsSection
from tests.insights_reference import reference

PROJECT = '7'
T1 = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
T2 = '0b7a5a3e-6f8e-4c33-9f0a-3c2e1d4b5a69'
U1 = '11111111-1111-4111-8111-111111111111'
U2 = '22222222-2222-4222-8222-222222222222'
DAY = datetime(2026, 11, 2, tzinfo=UTC)
NINE = DAY + timedelta(hours=9)
BOTH = (TemplateInsightsSection.INTERVAL_REPORTS, TemplateInsightsSection.REPORT)
WEEK = InsightsReportInterval.WEEK
DAILY = InsightsReportInterval.DAY
CODE_SERVER = {'slug': 'code-server', 'display_name': 'code-server', 'icon': '/icon/code.svg'}
MS = timedelta(milliseconds=1)


# --- lakes ----------------------------------------------------------------------------------------------------


def lake_rows(events: list[dict[str, Any]], received_at: datetime) -> pa.Table:
    """Ingestion bodies as the stream writer's lake rows: enriched, serialised and decoded as in production;
    received one millisecond apart in sending order (after every event happened, so none is clamped)."""
    settings = get_settings()
    records = [
        to_stream_record(
            enrich(TrackEventRequest.model_validate(body), RequestContext(PROJECT, received_at + index * MS), settings)
        ).data
        for index, body in enumerate(events)
    ]
    decoded = decode(records)
    assert not decoded.bad
    return to_file_schema(decoded.rows)


def roll_up(rows: pa.Table, root: Path, catalogue: bool, rng: random.Random) -> None:
    """What `usage_rollup.recompute_day` writes for every day with events and the day after: that day's buckets and
    builds, from the rows of the day and the day before (the lake partitions it reads); and with `catalogue`, as
    `usage_rollup.merge_into_catalogue` does, the days' builds merged into the app catalogue in a random order."""
    days = pc.strftime(rows.column('timestamp'), format='%Y-%m-%d')
    event_days = sorted({date.fromisoformat(day) for day in days.to_pylist()})
    rolled_up = sorted({*event_days, *(d + timedelta(days=1) for d in event_days)})
    for day in rng.sample(rolled_up, len(rolled_up)):
        read = rows.filter(pc.is_in(days, pa.array([(day - timedelta(days=1)).isoformat(), day.isoformat()])))
        start = datetime.combine(day, time(), tzinfo=UTC)
        _write(root, bucket_key('usage', PROJECT, day), usage_buckets(read, start, start + timedelta(days=1)))
        builds = workspace_builds(read, start, start + timedelta(days=1))
        _write(root, builds_key('usage', PROJECT, day), builds)
        if catalogue:
            merge_catalogue(root, PROJECT, [builds])


def merge_catalogue(root: Path, project: str, builds: list[pa.Table]) -> None:
    path = root / catalogue_key('usage', project)
    _write(root, str(path.relative_to(root)), merged_catalogue(pq.read_table(path) if path.exists() else None, builds))


def _write(root: Path, key: str, table: pa.Table) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


@dataclass
class Generated:
    engine: DuckDBEngine
    telemetry: generator.Telemetry
    buckets: dict
    catalogue: dict
    builds: list
    directory: dict[str, tuple[str, str]]


@pytest.fixture(
    scope='module',
    params=[(1, 14, 8, 3, True), (5, 9, 6, 2, False)],
    ids=['seed1-kept-catalogue', 'seed5-no-catalogue'],
)
def generated(request, tmp_path_factory) -> Iterator[Generated]:
    seed, days, users, templates, catalogue = request.param
    telemetry = generator.generate(seed=seed, days=days, users=users, templates=templates)
    root = tmp_path_factory.mktemp(f'lake{seed}')
    roll_up(lake_rows(telemetry.events, telemetry.end + timedelta(days=1)), root, catalogue, random.Random(seed))
    assert (root / catalogue_key('usage', PROJECT)).exists() == catalogue
    engine = DuckDBEngine(str(root))
    yield Generated(
        engine,
        telemetry,
        reference.usage_buckets(telemetry.events),
        reference.app_catalogue(telemetry.events),
        reference.workspace_builds(telemetry.events),
        reference.user_directory(telemetry.events),
    )
    engine.close()


# --- compared with the reference ------------------------------------------------------------------------------

OFFSETS = [timedelta(0), timedelta(hours=2), timedelta(hours=-5), timedelta(hours=5, minutes=30)]
OFFSETS += [timedelta(hours=5, minutes=45), timedelta(hours=-9, minutes=-30), timedelta(hours=14)]


@dataclass(frozen=True)
class Case:
    start: datetime
    end: datetime
    template_ids: list[str]
    interval: InsightsReportInterval | None
    sections: tuple[TemplateInsightsSection, ...]


def random_case(rng: random.Random, telemetry: generator.Telemetry) -> Case:
    """Windows as Coder's checks let through: from a local midnight (any offset) to one a few days later, or to a
    whole hour of the last day; before, over and after the data."""
    zone = timezone(rng.choice(OFFSETS))
    days = (telemetry.end - telemetry.start).days
    day = telemetry.start.date() + timedelta(days=rng.randint(-3, days + 1))
    start = datetime.combine(day, time(), tzinfo=zone)
    end = start + timedelta(days=rng.choice([0, 1, 1, 2, 3, 6, 7, 7, 9, 14, 21]))
    if rng.random() < 0.3:
        end += timedelta(hours=rng.randint(1, 23))
    known = telemetry.template_ids
    template_ids = rng.choice(
        [[], [], rng.sample(known, 1), rng.sample(known, min(2, len(known))), known, [str(uuid.uuid4())]]
    )
    if rng.random() < 0.2:
        template_ids = [template_id.upper() for template_id in template_ids] + [str(uuid.uuid4())]
    interval = rng.choice([None, DAILY, DAILY, WEEK, WEEK])
    sections = rng.choice([BOTH, BOTH, BOTH, BOTH[:1], BOTH[1:]])
    return Case(start, end, template_ids, interval, sections)


CASES = 30


@pytest.mark.parametrize('number', range(CASES))
def test_the_answers_are_the_references_over_random_windows(generated, number):
    case = random_case(random.Random(number), generated.telemetry)
    g = generated

    templates = template_insights(
        g.engine, PROJECT, case.start, case.end, case.template_ids, case.interval, case.sections
    )
    activity = user_activity(g.engine, PROJECT, case.start, case.end, case.template_ids, lambda ids: g.directory)
    latency = user_latency(g.engine, PROJECT, case.start, case.end, case.template_ids, lambda ids: g.directory)

    sections = [str(section) for section in case.sections]
    interval = case.interval and str(case.interval)
    assert templates.model_dump(mode='json') == reference.template_insights(
        g.buckets, g.catalogue, g.builds, case.start, case.end, case.template_ids, interval, sections
    ), case
    assert activity.model_dump(mode='json') == reference.user_activity(
        g.buckets, g.directory, case.start, case.end, case.template_ids
    ), case
    assert latency.model_dump(mode='json') == reference.user_latency(
        g.buckets, g.directory, case.start, case.end, case.template_ids
    ), case


def test_the_generated_windows_reach_every_part_of_the_answers(generated):
    """The comparison above is only as good as what its windows hold: apps with runs, parameters, latencies,
    users without latency, templates, and empty intervals all occur."""
    seen: dict[str, int] = dict.fromkeys(['apps', 'runs', 'parameters', 'latency', 'no_latency', 'empty'], 0)
    for number in range(CASES):
        case = random_case(random.Random(number), generated.telemetry)
        body = reference.template_insights(
            generated.buckets, generated.catalogue, generated.builds, case.start, case.end, [], 'day'
        )
        apps = [app for app in body['report']['apps_usage'] if app['type'] == 'app']
        seen['apps'] += len(apps)
        seen['runs'] += sum(app['times_used'] > 1 for app in apps)
        seen['parameters'] += len(body['report']['parameters_usage'])
        seen['empty'] += sum(r['active_users'] == 0 for r in body.get('interval_reports', []))
        users = reference.user_latency(generated.buckets, generated.directory, case.start, case.end)['report']['users']
        seen['latency'] += sum(user['latency_ms']['p50'] > 0 for user in users)
        seen['no_latency'] += sum(user['latency_ms']['p50'] == -1 for user in users)
    assert all(seen.values()), seen


# --- hand-computed cases --------------------------------------------------------------------------------------


def bucket(
    at: datetime,
    user: str = U1,
    template: str | None = T1,
    usage: int = 1,
    apps: dict[str, int] | None = None,
    latency: float | None = None,
    **builtins: int,
) -> dict[str, Any]:
    return {
        'bucket_start': at,
        'template_id': template,
        'user_id': user,
        'usage_minutes': usage,
        **{f'{name}_minutes': builtins.get(name, 0) for name in ('vscode', 'jetbrains', 'reconnecting_pty', 'ssh')},
        'sftp_minutes': builtins.get('sftp', 0),
        'app_minutes': json.dumps(apps or {}),
        'median_latency_ms': latency,
    }


def build(
    at: datetime,
    template: str = T1,
    workspace: str = 'w1',
    number: int = 1,
    apps: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    definitions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        'workspace_id': workspace,
        'build_number': number,
        'template_id': template,
        'created_at': at,
        'received_at': at,
        'template_version_id': 'v1',
        'apps': json.dumps([{'agent_id': 'a1', **app} for app in apps or []]),
        'parameters': json.dumps([{'name': name, 'value': value} for name, value in (values or {}).items()]),
        'template_parameters': json.dumps(definitions or []),
    }


def definition(name: str, description: str = '', options: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        'name': name,
        'display_name': name.title(),
        'type': 'string',
        'description': description,
        'options': [{'name': o.title(), 'description': '', 'value': o, 'icon': ''} for o in options],
    }


def write_rollup(
    root: Path,
    buckets: Sequence[dict] = (),
    builds: Sequence[dict] = (),
    project: str = PROJECT,
    catalogue: bool = True,
) -> None:
    """Each day's files as the rollup lays them out, and the builds merged into the app catalogue unless not
    `catalogue` (a lake from before it)."""
    for rows, schema, key_of, column in (
        (buckets, BUCKET_SCHEMA, bucket_key, 'bucket_start'),
        (builds, BUILD_SCHEMA, builds_key, 'created_at'),
    ):
        for day in sorted({row[column].date() for row in rows}):
            table = pa.Table.from_pylist([row for row in rows if row[column].date() == day], schema=schema)
            _write(root, key_of('usage', project, day), table)
    if catalogue:
        merge_catalogue(root, project, [pa.Table.from_pylist(list(builds), schema=BUILD_SCHEMA)])


@pytest.fixture
def lake(tmp_path) -> Iterator[tuple[Path, DuckDBEngine]]:
    engine = DuckDBEngine(str(tmp_path))
    yield tmp_path, engine
    engine.close()


def report(engine: QueryEngine, start: datetime = DAY, end: datetime = DAY + timedelta(days=1), **options) -> dict:
    options = {'sections': (TemplateInsightsSection.REPORT,), **options}
    return template_insights(engine, PROJECT, start, end, **options).model_dump(mode='json')['report']


def apps_of(body: dict) -> dict[str, dict]:
    return {app['slug']: app for app in body['apps_usage']}


def test_usage_each_builtin_and_each_app_are_capped_at_30_minutes_per_bucket_and_user_across_templates(lake):
    root, engine = lake
    write_rollup(
        root,
        buckets=[
            bucket(NINE, template=T1, usage=20, vscode=20, ssh=5, apps={'code-server': 20}),
            bucket(NINE, template=T2, usage=25, vscode=15, ssh=5, apps={'code-server': 15}),
            bucket(NINE, user=U2, template=T2, usage=25, vscode=25),
        ],
        builds=[build(DAY, T1, apps=[CODE_SERVER]), build(DAY, T2, apps=[CODE_SERVER])],
    )

    body = report(engine)
    seconds = user_activity(engine, PROJECT, DAY, DAY + timedelta(days=1)).report.users

    assert [(user.user_id, user.seconds) for user in seconds] == [(U1, 30 * 60), (U2, 25 * 60)]
    apps = apps_of(body)
    assert (apps['vscode']['seconds'], apps['vscode']['template_ids']) == ((30 + 25) * 60, [T2, T1])
    assert (apps['ssh']['seconds'], apps['ssh']['template_ids']) == (10 * 60, [T2, T1])
    assert (apps['jetbrains']['seconds'], apps['jetbrains']['template_ids']) == (0, [])
    assert apps['code-server'] == {
        'template_ids': [T2, T1],
        'type': 'app',
        **CODE_SERVER,
        'seconds': 30 * 60,
        'times_used': 1,
    }
    assert (body['active_users'], body['template_ids']) == (2, [T2, T1])


def test_an_app_session_from_nine_to_eleven_is_used_once_and_one_after_a_gap_again(lake):
    root, engine = lake
    session = [bucket(NINE + i * timedelta(minutes=30), apps={'code-server': 30}, usage=30) for i in range(4)]
    later = [bucket(NINE + timedelta(hours=13), apps={'code-server': 3}, usage=3)]
    other_user = [bucket(NINE, user=U2, apps={'code-server': 10}, usage=10)]
    write_rollup(root, buckets=session + later + other_user, builds=[build(DAY, apps=[CODE_SERVER])])

    app = apps_of(report(engine))['code-server']

    assert (app['times_used'], app['seconds']) == (1 + 1 + 1, (4 * 30 + 3 + 10) * 60)


def test_latency_is_the_interpolated_percentiles_of_a_users_bucket_medians_and_minus_one_without_any(lake):
    root, engine = lake
    medians = [10.0, 40.0, 20.0, 30.0]
    write_rollup(
        root,
        buckets=[bucket(NINE + i * timedelta(minutes=30), latency=m) for i, m in enumerate(medians)]
        + [bucket(NINE + timedelta(hours=3), template=T2)]  # a bucket without a median is skipped
        + [bucket(NINE, user=U2, apps={'8080': 1})],  # app-only usage: no median at all
    )

    users = user_latency(engine, PROJECT, DAY, DAY + timedelta(days=1)).model_dump(mode='json')['report']['users']

    assert [(u['user_id'], u['template_ids']) for u in users] == [(U1, [T2, T1]), (U2, [T1])]
    assert users[0]['latency_ms'] == {'p50': 25.0, 'p95': pytest.approx(30 + 10 * 0.85)}
    assert users[1]['latency_ms'] == {'p50': -1, 'p95': -1}


def test_keys_no_catalogue_of_the_template_defines_are_usage_but_never_apps(lake):
    root, engine = lake
    keys = {'legacy-tool': 5, '8080': 3, '[terminal]': 4, 'jupyter': 2, 'code-server': 1}
    write_rollup(
        root,
        buckets=[bucket(NINE, usage=9, apps=keys)],
        # jupyter is only T2's: T1's usage of that key is not an app
        builds=[build(DAY, T1, apps=[CODE_SERVER]), build(DAY, T2, apps=[{**CODE_SERVER, 'slug': 'jupyter'}])],
    )

    body = report(engine)

    assert [app['slug'] for app in body['apps_usage'] if app['type'] == 'app'] == ['code-server']
    assert user_activity(engine, PROJECT, DAY, DAY + timedelta(days=1)).report.users[0].seconds == 9 * 60


@pytest.mark.parametrize('catalogue', [True, False], ids=['kept-catalogue', 'every-build'])
def test_the_newest_definition_of_an_app_wins_whenever_built_and_apps_group_by_slug_name_and_icon(lake, catalogue):
    root, engine = lake
    renamed = {**CODE_SERVER, 'display_name': 'Code Server'}
    write_rollup(
        root,
        catalogue=catalogue,
        buckets=[
            bucket(NINE, template=T1, apps={'code-server': 4}),
            bucket(NINE, template=T2, apps={'code-server': 6}),
        ],
        builds=[
            build(DAY - timedelta(days=30), T1, apps=[CODE_SERVER]),
            build(DAY + timedelta(days=3), T1, apps=[renamed]),  # after the window: still the newest
            build(DAY - timedelta(days=1), T2, apps=[CODE_SERVER]),
        ],
    )

    apps = [(a['display_name'], a['template_ids'], a['seconds']) for a in report(engine)['apps_usage'][5:]]

    assert apps == [('Code Server', [T1], 4 * 60), ('code-server', [T2], 6 * 60)]


def test_builtins_come_first_in_coders_order_with_its_names_and_icons(lake):
    _, engine = lake

    builtins = [(a['slug'], a['display_name'], a['icon'], a['type']) for a in report(engine)['apps_usage']]

    assert builtins == [
        ('vscode', 'Visual Studio Code', '/icon/code.svg', 'builtin'),
        ('jetbrains', 'JetBrains', '/icon/intellij.svg', 'builtin'),
        ('reconnecting-pty', 'Web Terminal', '/icon/terminal.svg', 'builtin'),
        ('ssh', 'SSH', '/icon/terminal.svg', 'builtin'),
        ('sftp', 'SFTP', '/icon/terminal.svg', 'builtin'),
    ]


def test_every_interval_is_listed_empty_ones_too_in_the_start_offset_and_the_last_partial(lake):
    root, engine = lake
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2026, 11, 1, tzinfo=plus_two)
    write_rollup(
        root,
        buckets=[
            bucket(datetime(2026, 11, 2, 10, tzinfo=UTC)),  # the 2nd, local
            bucket(datetime(2026, 11, 2, 10, tzinfo=UTC), user=U2, template=None),
            bucket(datetime(2026, 11, 3, 21, 30, tzinfo=UTC), user=U2, template=T2),  # the 3rd, 23:30 local
        ],
    )
    end = datetime(2026, 11, 4, 13, tzinfo=plus_two)  # "today" at 13:00

    body = template_insights(engine, PROJECT, start, end, [], DAILY, BOTH).model_dump(mode='json')

    assert body['interval_reports'] == [
        {
            'start_time': '2026-11-01T00:00:00+02:00',
            'end_time': '2026-11-02T00:00:00+02:00',
            'template_ids': [],
            'interval': 'day',
            'active_users': 0,
        },
        {
            'start_time': '2026-11-02T00:00:00+02:00',
            'end_time': '2026-11-03T00:00:00+02:00',
            'template_ids': [T1],
            'interval': 'day',
            'active_users': 2,
        },
        {
            'start_time': '2026-11-03T00:00:00+02:00',
            'end_time': '2026-11-04T00:00:00+02:00',
            'template_ids': [T2],
            'interval': 'day',
            'active_users': 1,
        },
        {
            'start_time': '2026-11-04T00:00:00+02:00',
            'end_time': '2026-11-04T13:00:00+02:00',
            'template_ids': [],
            'interval': 'day',
            'active_users': 0,
        },
    ]
    assert (body['report']['start_time'], body['report']['end_time']) == (
        '2026-11-01T00:00:00+02:00',
        '2026-11-04T13:00:00+02:00',
    )


def test_a_bucket_across_an_interval_boundary_counts_in_the_report_but_in_no_interval(lake):
    root, engine = lake
    nepal = timezone(timedelta(hours=5, minutes=45))  # local midnight is 18:15 UTC: buckets straddle it
    start = datetime(2026, 11, 2, tzinfo=nepal)
    straddling = bucket(datetime(2026, 11, 2, 18, tzinfo=UTC), user=U2)  # 18:00-18:30 UTC
    write_rollup(root, buckets=[straddling, bucket(datetime(2026, 11, 2, 19, tzinfo=UTC))])

    body = template_insights(engine, PROJECT, start, start + timedelta(days=2), [], DAILY, BOTH)

    assert body.report is not None and body.report.active_users == 2
    assert [r.active_users for r in body.interval_reports] == [0, 1]


def test_a_week_interval_ends_with_the_window(lake):
    _, engine = lake
    start = datetime(2026, 11, 1, tzinfo=UTC)

    reports = template_insights(engine, PROJECT, start, start + timedelta(days=13), [], WEEK, BOTH).interval_reports

    assert [(r.start_time.day, r.end_time.day, r.interval) for r in reports] == [(1, 8, WEEK), (8, 14, WEEK)]


def test_parameters_count_workspaces_by_their_latest_build_in_the_window_grouped_across_templates(lake):
    root, engine = lake
    region = definition('region', 'Where', ('eu', 'us'))
    region_b = definition('region', 'Where', ('ap',))  # differs by its options: a group of its own
    dotfiles = definition('dotfiles')
    write_rollup(
        root,
        builds=[
            build(NINE, T1, 'w1', 1, values={'region': 'us', 'dotfiles': ''}, definitions=[region, dotfiles]),
            build(NINE + timedelta(hours=1), T1, 'w1', 2, values={'region': 'eu'}, definitions=[region, dotfiles]),
            build(NINE, T2, 'w2', 5, values={'region': 'eu', 'dotfiles': 'x'}, definitions=[dotfiles, region]),
            build(NINE, T2, 'w3', 1, values={'region': 'us'}, definitions=[region]),
            build(NINE, T2, 'w4', 1, values={'region': 'ap'}, definitions=[region_b]),
            build(DAY + timedelta(days=1), T2, 'w2', 6, values={'region': 'us'}, definitions=[region]),  # after
            build(NINE, T2, 'w5', 1, values={}, definitions=[definition('unanswered')]),
        ],
    )

    usage = report(engine)['parameters_usage']

    def options(*values: str) -> list[dict[str, str]]:
        return [{'name': v.title(), 'description': '', 'value': v, 'icon': ''} for v in values]

    common = {'type': 'string'}
    assert usage == [
        {
            'template_ids': [T2, T1],
            'display_name': 'Dotfiles',
            'name': 'dotfiles',
            **common,
            'description': '',
            'values': [{'value': 'x', 'count': 1}],
        },
        {
            'template_ids': [T2],
            'display_name': 'Region',
            'name': 'region',
            **common,
            'description': 'Where',
            'options': options('ap'),
            'values': [{'value': 'ap', 'count': 1}],
        },
        {
            'template_ids': [T2, T1],
            'display_name': 'Region',
            'name': 'region',
            **common,
            'description': 'Where',
            'options': options('eu', 'us'),
            'values': [{'value': 'eu', 'count': 2}, {'value': 'us', 'count': 1}],
        },
    ]


def test_a_template_filter_keeps_only_its_buckets_and_builds(lake):
    root, engine = lake
    write_rollup(
        root,
        buckets=[bucket(NINE, template=T1), bucket(NINE, user=U2, template=T2), bucket(NINE, template=None)],
        builds=[build(NINE, T1, values={'a': '1'}, definitions=[definition('a')]), build(NINE, T2, 'w2')],
    )

    body = report(engine, template_ids=[uuid.UUID(T2)])
    activity = user_activity(engine, PROJECT, DAY, DAY + timedelta(days=1), [T1.upper()]).model_dump(mode='json')

    assert (body['template_ids'], body['active_users'], body['parameters_usage']) == ([T2], 1, [])
    assert activity['report']['template_ids'] == [T1]
    assert [(u['user_id'], u['template_ids'], u['seconds']) for u in activity['report']['users']] == [(U1, [T1], 60)]


def test_users_are_by_id_with_the_directorys_name_and_avatar(lake):
    root, engine = lake
    write_rollup(root, buckets=[bucket(NINE, user='b-user'), bucket(NINE, user='a-user', template=None)])
    directory = {'b-user': ('bob', 'https://a.example/b.png')}

    users = user_activity(engine, PROJECT, DAY, DAY + timedelta(days=1), directory=lambda ids: directory).report.users

    assert [(u.user_id, u.username, u.avatar_url, u.template_ids) for u in users] == [
        ('a-user', '', '', []),
        ('b-user', 'bob', 'https://a.example/b.png', [uuid.UUID(T1)]),
    ]


def test_a_bucket_counts_only_inside_the_window_and_for_its_project(lake):
    root, engine = lake
    write_rollup(root, buckets=[bucket(DAY - timedelta(minutes=30)), bucket(DAY + timedelta(days=1))])
    write_rollup(root, buckets=[bucket(NINE)], project='other')

    assert user_activity(engine, PROJECT, DAY, DAY + timedelta(days=1)).report.users == []


def test_a_zero_offset_is_echoed_as_z_and_others_as_sent(lake):
    _, engine = lake
    start = datetime(2026, 11, 1, tzinfo=timezone(timedelta(0)))
    end = datetime(2026, 11, 2, tzinfo=timezone(timedelta(hours=-3)))

    body = user_latency(engine, PROJECT, start, end).model_dump(mode='json')['report']

    assert (body['start_time'], body['end_time']) == ('2026-11-01T00:00:00Z', '2026-11-02T00:00:00-03:00')


def test_only_the_sections_asked_for_are_answered(lake):
    _, engine = lake
    start, end = DAY, DAY + timedelta(days=2)

    def keys(interval, sections) -> list[str]:
        return list(template_insights(engine, PROJECT, start, end, [], interval, sections).model_dump(mode='json'))

    assert keys(DAILY, BOTH) == ['report', 'interval_reports']
    assert keys(None, BOTH) == ['report']
    assert keys(DAILY, (TemplateInsightsSection.INTERVAL_REPORTS,)) == ['interval_reports']
    assert keys(DAILY, (TemplateInsightsSection.REPORT,)) == ['report']


def test_a_lake_without_rollup_files_answers_no_usage_and_lists_its_empty_intervals(lake):
    _, engine = lake

    body = template_insights(engine, PROJECT, DAY, DAY + timedelta(days=2), [], DAILY, BOTH).model_dump(mode='json')

    assert body['report']['active_users'] == 0
    assert body['report']['parameters_usage'] == []
    assert [(a['slug'], a['seconds']) for a in body['report']['apps_usage']] == [
        ('vscode', 0),
        ('jetbrains', 0),
        ('reconnecting-pty', 0),
        ('ssh', 0),
        ('sftp', 0),
    ]
    assert [r['active_users'] for r in body['interval_reports']] == [0, 0]


# --- partition pruning ----------------------------------------------------------------------------------------


class RecordingEngine(DuckDBEngine):
    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.statements: list[str] = []

    def start(self, sql: str) -> str:
        self.statements.append(sql)
        return super().start(sql)


class RecordingAthena(AthenaEngine):
    """Athena's dialect and sources; every statement answers no rows."""

    def __init__(self) -> None:
        super().__init__('primary', 'analytics')
        self.statements: list[str] = []

    def start(self, sql: str) -> str:
        self.statements.append(sql)
        return str(len(self.statements))

    def poll(self, execution_id: str) -> QueryResult | None:
        return QueryResult()


def _every_statement(engine: RecordingEngine | RecordingAthena, start: datetime, end: datetime) -> list[str]:
    template_insights(engine, PROJECT, start, end, [T1], WEEK, BOTH)
    user_activity(engine, PROJECT, start, end)
    user_latency(engine, PROJECT, start, end, [T2])
    return engine.statements


# Each rollup's source as it shows in a statement: the file name (DuckDB's glob, Athena's "$path" filter), or the
# Glue table of the catalogue, which has a folder of its own.
ROLLUP_SOURCES = {
    'buckets.parquet': 'buckets',
    'builds.parquet': 'builds',
    'catalogue.parquet': 'catalogue',
    '"app_catalogue"': 'catalogue',
}


def _scans(sql: str, dialect: str) -> list[tuple[str, set[str], str]]:
    """(rollup, its partition predicates, its whole condition) of every scan of a rollup in `sql`: the selects
    whose FROM is the engine's source of the buckets, the builds or the app catalogue."""
    scans = []
    for select in sqlglot.parse_one(sql, read=dialect).find_all(exp.Select):
        source = select.args.get('from_')
        for name, rollup in ROLLUP_SOURCES.items():
            if source is not None and name in source.sql(dialect):
                where = select.args['where']
                partitions = {
                    node.sql(dialect)
                    for node in where.find_all(exp.EQ, exp.GTE, exp.LTE)
                    if node.this.name in ('project_id', 'dt')
                }
                scans.append((rollup, partitions, where.sql(dialect)))
    return scans


@pytest.mark.parametrize('dialect', ['duckdb', 'athena'])
def test_every_statement_names_its_project_and_its_days_and_no_builds_outside_them(tmp_path, dialect):
    write_rollup(tmp_path, buckets=[bucket(NINE)], builds=[build(NINE)])
    engine = RecordingEngine(tmp_path) if dialect == 'duckdb' else RecordingAthena()
    start = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=2)))  # 2026-10-31 22:00 UTC

    statements = _every_statement(engine, start, start + timedelta(days=7))

    assert len(statements) == 5 + 2
    assert all(_scans(sql, dialect) for sql in statements)
    scans = [scan for sql in statements for scan in _scans(sql, dialect)]
    # the app catalogue is of every build ever (mapping §3): its scan, the project's one file, alone has no days
    project = f"project_id = '{PROJECT}'"
    days = {"dt >= '2026-10-31'", "dt <= '2026-11-07'"}
    assert [partitions for rollup, partitions, _ in scans if rollup == 'catalogue'] == [{project}]
    assert [partitions for rollup, partitions, _ in scans if rollup != 'catalogue'] == [{project, *days}] * (
        len(scans) - 1
    )


class WithoutKeptCatalogue(RecordingAthena):
    """Athena's dialect, for a project whose catalogue is not written: the apps statement answers its row of nulls."""

    def poll(self, execution_id: str) -> QueryResult | None:
        if 'app_catalogue' in self.statements[int(execution_id) - 1]:
            return QueryResult(rows=[(None,) * 6])
        return QueryResult()


def test_a_project_without_a_kept_catalogue_has_its_apps_from_every_build_in_one_more_statement():
    engine = WithoutKeptCatalogue()

    template_insights(engine, PROJECT, DAY, DAY + timedelta(days=1), [T1], None, BOTH)

    assert len(engine.statements) == 4 + 1
    [fallback] = [scan for scan in _scans(engine.statements[-1], 'athena') if scan[0] in ('builds', 'catalogue')]
    assert fallback[:2] == ('builds', {f"project_id = '{PROJECT}'"})  # every day of the project's builds


def test_no_builds_file_outside_the_window_is_read_with_the_kept_catalogue(lake):
    """DuckDB reads a file only if its partitions pass the statement's: a file that is not Parquet at all, after
    the window, fails any statement that reads it. The definitions of builds outside the window still count, from
    the catalogue (the file of the oldest is even gone)."""
    root, engine = lake
    renamed = {**CODE_SERVER, 'display_name': 'Code Server'}
    write_rollup(
        root,
        buckets=[bucket(NINE, apps={'code-server': 4})],
        builds=[
            build(DAY - timedelta(days=40), apps=[CODE_SERVER]),
            build(NINE, values={'a': '1'}, definitions=[definition('a')]),
            build(DAY + timedelta(days=3), apps=[renamed]),
        ],
    )
    (root / builds_key('usage', PROJECT, (DAY - timedelta(days=40)).date())).unlink()
    (root / builds_key('usage', PROJECT, (DAY + timedelta(days=3)).date())).write_bytes(b'not a parquet file')

    body = report(engine)

    assert [(a['display_name'], a['seconds']) for a in body['apps_usage'][5:]] == [('Code Server', 4 * 60)]
    assert [p['name'] for p in body['parameters_usage']] == ['a']
    (root / catalogue_key('usage', PROJECT)).unlink()  # without it, every build is read: this one fails
    with pytest.raises(QueryExecutionError, match='dt=2026-11-05/builds.parquet'):
        report(engine)


# --- the local stack's engine ---------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def moto_endpoint() -> Iterator[str]:
    server = LocalMotoServer(port=0)
    server.start()
    yield server.endpoint
    server.stop()


def test_the_local_stacks_engine_reads_the_rollup_from_the_lake_bucket_as_the_directory_engine_does(
    moto_endpoint, lake
):
    root, directory_engine = lake
    s3 = local_client('s3', moto_endpoint)
    s3.create_bucket(Bucket='lake')
    engine = LocalLakeDuckDBEngine('lake', 'events', moto_endpoint, REGION, result_retention_seconds=60)
    window: tuple[Any, ...] = (PROJECT, DAY, DAY + timedelta(days=2), [], DAILY, BOTH)
    before = template_insights(engine, *window).model_dump(mode='json')
    write_rollup(
        root,
        buckets=[bucket(NINE, usage=5, vscode=5, apps={'code-server': 5}, latency=12.5), bucket(NINE, user=U2)],
        builds=[
            build(DAY - timedelta(days=40), apps=[CODE_SERVER]),
            build(NINE, values={'a': '1'}, definitions=[definition('a')]),
        ],
    )
    for path in root.rglob('*.parquet'):
        s3.put_object(Bucket='lake', Key=str(path.relative_to(root)), Body=path.read_bytes())

    after = template_insights(engine, *window).model_dump(mode='json')
    latency = user_latency(engine, PROJECT, DAY, DAY + timedelta(days=1)).model_dump(mode='json')

    assert [r['active_users'] for r in before['interval_reports']] == [0, 0]
    assert after == template_insights(directory_engine, *window).model_dump(mode='json')
    assert (
        after['report']['active_users'],
        len(after['report']['apps_usage']),
        len(after['report']['parameters_usage']),
    ) == (2, 6, 1)
    assert latency == user_latency(directory_engine, PROJECT, DAY, DAY + timedelta(days=1)).model_dump(mode='json')
    engine.close()
