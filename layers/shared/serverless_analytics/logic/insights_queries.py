"""Coder's template insights, user activity and user latency answers, in SQL over the usage rollup (insights
mapping §3-§4, API spec §1.4, §1.5, §2, §3), through the query engine interface.

Each statement is a fixed SQL text in Trino's dialect, parsed by sqlglot, given its sources as ASTs and its
values as literal nodes, then rendered in the engine's dialect: nothing of a request is ever spliced into SQL
text. Every scan names its project (`project_id =`, the tenant rule and Athena's injected partition) and its `dt`
days, but the app catalogue's (mapping §3: the newest definitions of every build ever), which is one small file
per project that the usage rollup keeps (logic.app_catalogue), so that no answer grows with the history. The
statements of an answer run at once (Athena's latency is per statement, not per scan).

SQL does the work that grows with usage (capping, summing, runs of buckets, percentiles, counts); Python only
lays out the rows it returns as Coder's lists (a row per template of each entry, as arrays do not come back from
Athena as values), lists the empty intervals, and merges parameter definitions across templates.
"""

import json
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any
from uuid import UUID

import sqlglot
from sqlglot import exp

from serverless_analytics.cube.dates import format_day
from serverless_analytics.cube.dialects import timestamp_literal
from serverless_analytics.engines.base import QueryEngine, QueryResult, wait_for
from serverless_analytics.models.insights import (
    ConnectionLatency,
    InsightsReportInterval,
    TemplateAppsType,
    TemplateAppUsage,
    TemplateInsightsIntervalReport,
    TemplateInsightsReport,
    TemplateInsightsResponse,
    TemplateInsightsSection,
    TemplateParameterOption,
    TemplateParameterUsage,
    TemplateParameterValue,
    UserActivity,
    UserActivityInsightsReport,
    UserActivityInsightsResponse,
    UserLatency,
    UserLatencyInsightsReport,
    UserLatencyInsightsResponse,
)

BUCKET = timedelta(minutes=30)
BUCKET_SECONDS = 1800
CAP_MINUTES = 30
# API §1.4: the five builtins, always first and in this order: (bucket column, slug, display name, icon).
BUILTIN_APPS = (
    ('vscode', 'vscode', 'Visual Studio Code', '/icon/code.svg'),
    ('jetbrains', 'jetbrains', 'JetBrains', '/icon/intellij.svg'),
    ('reconnecting_pty', 'reconnecting-pty', 'Web Terminal', '/icon/terminal.svg'),
    ('ssh', 'ssh', 'SSH', '/icon/terminal.svg'),
    ('sftp', 'sftp', 'SFTP', '/icon/terminal.svg'),
)
BUILTINS = tuple(column for column, *_ in BUILTIN_APPS)
USAGE_COLUMNS = (
    'bucket_start',
    'template_id',
    'user_id',
    'usage_minutes',
    *(f'{name}_minutes' for name in BUILTINS),
    'app_minutes',
    'median_latency_ms',
)
CATALOGUE_COLUMNS = ('template_id', 'slug', 'display_name', 'icon')
CATALOGUE_BUILD_COLUMNS = ('template_id', 'created_at', 'received_at', 'apps')
WINDOW_BUILD_COLUMNS = (
    'template_id',
    'workspace_id',
    'build_number',
    'received_at',
    'parameters',
    'template_parameters',
)
Directory = Mapping[str, tuple[str, str]]  # user id -> (username, avatar URL)
# The names of the users an answer lists, looked up once their ids are known (the users table, in one read).
DirectoryLookup = Callable[[list[str]], Directory]


@dataclass(frozen=True)
class InsightsWindow:
    """What every statement of a request reads: one project's rows of [start, end), of some templates (all when
    none). `start` and `end` are the request's, in its offset."""

    project_id: str
    start: datetime
    end: datetime
    template_ids: tuple[str, ...]

    @classmethod
    def of(
        cls, project_id: str, start: datetime, end: datetime, template_ids: Iterable[UUID | str]
    ) -> 'InsightsWindow':
        return cls(project_id, start, end, tuple(sorted({str(UUID(str(value))) for value in template_ids})))

    @property
    def utc_start(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        return self.end.astimezone(UTC)

    @property
    def last_bucket_start(self) -> datetime:
        """API §1.5: a bucket is in the window when it starts at or after `start` and ends at or before `end`."""
        return self.utc_end - BUCKET


# --- answers ------------------------------------------------------------------------------------------------


def template_insights(
    engine: QueryEngine,
    project_id: str,
    start: datetime,
    end: datetime,
    template_ids: Iterable[UUID | str] = (),
    interval: InsightsReportInterval | None = None,
    sections: Collection[TemplateInsightsSection] = tuple(TemplateInsightsSection),
    timeout: float | None = None,
) -> TemplateInsightsResponse:
    """`GET /api/v2/insights/templates`: the report when asked, interval reports when an interval is asked and the
    section too (API §1.3)."""
    window = InsightsWindow.of(project_id, start, end, template_ids)
    wants_report = TemplateInsightsSection.REPORT in sections
    reported_interval = interval if TemplateInsightsSection.INTERVAL_REPORTS in sections else None
    statements: dict[str, str] = {}
    if wants_report:
        statements |= {
            'totals': _report_totals_sql(engine, window),
            'templates': _report_templates_sql(engine, window),
            'apps': _apps_sql(engine, window),
            'parameters': _parameters_sql(engine, window),
        }
    if reported_interval is not None:
        statements['intervals'] = _intervals_sql(engine, window, reported_interval.days)
    deadline = None if timeout is None else time.monotonic() + timeout
    results = _run_all(engine, statements, timeout)
    if wants_report and _catalogue_missing(results['apps']):
        # A project whose catalogue the usage rollup has not written yet (a lake from before the catalogue, and no
        # event since): its apps are answered from every build it has, as before the catalogue was kept.
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        results |= _run_all(engine, {'apps': _apps_sql(engine, window, kept=False)}, left)
    response = TemplateInsightsResponse()
    if wants_report:
        response.report = _report(window, results)
    if reported_interval is not None:
        response.interval_reports = _interval_reports(window, reported_interval, results['intervals'])
    return response


def user_activity(
    engine: QueryEngine,
    project_id: str,
    start: datetime,
    end: datetime,
    template_ids: Iterable[UUID | str] = (),
    directory: DirectoryLookup | None = None,
    timeout: float | None = None,
) -> UserActivityInsightsResponse:
    """`GET /api/v2/insights/user-activity`: per user, usage capped at 30 minutes per bucket across templates."""
    window = InsightsWindow.of(project_id, start, end, template_ids)
    rows, names = _user_rows(engine, _user_activity_sql(engine, window), directory, timeout)
    users = [
        UserActivity(**_user_fields(user_id, templates, names), seconds=int(seconds))
        for user_id, (seconds,), templates in rows
    ]
    report = UserActivityInsightsReport(
        start_time=window.start, end_time=window.end, template_ids=_union(users), users=users
    )
    return UserActivityInsightsResponse(report=report)


def user_latency(
    engine: QueryEngine,
    project_id: str,
    start: datetime,
    end: datetime,
    template_ids: Iterable[UUID | str] = (),
    directory: DirectoryLookup | None = None,
    timeout: float | None = None,
) -> UserLatencyInsightsResponse:
    """`GET /api/v2/insights/user-latency`: per user, the 50th and 95th percentiles of its bucket medians, -1 for a
    user with usage but no median."""
    window = InsightsWindow.of(project_id, start, end, template_ids)
    rows, names = _user_rows(engine, _user_latency_sql(engine, window), directory, timeout)
    users = [
        UserLatency(
            **_user_fields(user_id, templates, names),
            latency_ms=ConnectionLatency(p50=float(p50), p95=float(p95)),
        )
        for user_id, (p50, p95), templates in rows
    ]
    report = UserLatencyInsightsReport(
        start_time=window.start, end_time=window.end, template_ids=_union(users), users=users
    )
    return UserLatencyInsightsResponse(report=report)


_LOCAL_DAILY_USERS = """
SELECT CAST(bucket_start AT TIME ZONE :zone AS DATE) AS local_day, COUNT(DISTINCT user_id) AS users
FROM usage_rows
WHERE CAST((bucket_start + INTERVAL '1799' SECOND) AT TIME ZONE :zone AS DATE) = CAST(bucket_start AT TIME ZONE :zone AS DATE)
GROUP BY 1
"""


def local_daily_users(
    engine: QueryEngine,
    project_id: str,
    start: datetime,
    end: datetime,
    zone_name: str,
    template_ids: Iterable[UUID | str] = (),
    timeout: float | None = None,
) -> dict[date, int]:
    """Distinct users per local date of `zone_name` with a bucket inside that day (a bucket straddling a local
    midnight, in a zone of half-hour offset, is in neither day, as in the interval rule of API §1.5)."""
    window = InsightsWindow.of(project_id, start, end, template_ids)
    sql = _render(
        engine, _LOCAL_DAILY_USERS, {'usage_rows': _usage_rows(engine, window)}, zone=exp.Literal.string(zone_name)
    )
    rows = _run_all(engine, {'days': sql}, timeout)['days'].rows
    return {_as_date(day): int(users) for day, users in rows}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


# --- laying out rows ----------------------------------------------------------------------------------------


def _report(window: InsightsWindow, results: dict[str, QueryResult]) -> TemplateInsightsReport:
    totals = results['totals'].rows[0] if results['totals'].rows else None
    builtin_templates: dict[str, list[str]] = defaultdict(list)
    every_template = []
    for template_id, *used in sorted(results['templates'].rows):
        every_template.append(template_id)
        for (name, *_), was_used in zip(BUILTIN_APPS, used, strict=True):
            if was_used:
                builtin_templates[name].append(template_id)
    builtins = [
        TemplateAppUsage(
            template_ids=_uuids(builtin_templates[name]),
            type=TemplateAppsType.BUILTIN,
            display_name=display_name,
            slug=slug,
            icon=icon,
            seconds=int(totals[1 + index]) if totals else 0,
            times_used=0,
        )
        for index, (name, slug, display_name, icon) in enumerate(BUILTIN_APPS)
    ]
    return TemplateInsightsReport(
        start_time=window.start,
        end_time=window.end,
        template_ids=_uuids(every_template),
        active_users=int(totals[0]) if totals else 0,
        apps_usage=builtins + _apps(results['apps'].rows),
        parameters_usage=_parameters(results['parameters'].rows),
    )


def _apps(rows: list[tuple]) -> list[TemplateAppUsage]:
    """One row per (app group, template with its usage), the group's totals on each."""
    groups: dict[tuple[str, str, str], tuple[int, int]] = {}
    templates: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for slug, display_name, icon, seconds, times_used, template_id in rows:
        groups[slug, display_name, icon] = (int(seconds), int(times_used))
        templates[slug, display_name, icon].add(template_id)
    return [_app(group, templates[group], *groups[group]) for group in sorted(groups)]


def _app(group: tuple[str, str, str], templates: set[str], seconds: int, times_used: int) -> TemplateAppUsage:
    slug, display_name, icon = group
    return TemplateAppUsage(
        template_ids=_uuids(templates),
        type=TemplateAppsType.APP,
        display_name=display_name,
        slug=slug,
        icon=icon,
        seconds=seconds,
        times_used=times_used,
    )


@dataclass(frozen=True, order=True)
class ParameterDefinition:
    """A definition as Coder groups and sorts them (mapping §3): the fields in that order."""

    name: str
    type: str
    display_name: str
    description: str
    options: tuple[tuple[str, str, str, str], ...]  # (name, description, value, icon)

    @classmethod
    def of(cls, text: str) -> 'ParameterDefinition':
        sent = json.loads(text)
        options = tuple((o['name'], o['description'], o['value'], o['icon']) for o in sent['options'])
        return cls(sent['name'], sent['type'], sent['display_name'], sent['description'], options)


def _parameters(rows: list[tuple]) -> list[TemplateParameterUsage]:
    """Rows per (definition's JSON, template, value) with the workspaces counted, merged here across templates by
    the definition's fields: the JSON text of one definition differs between engines (and key orders), and the
    options sort as their fields, which SQL cannot do on that text."""
    templates: dict[ParameterDefinition, set[str]] = defaultdict(set)
    counts: dict[ParameterDefinition, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for text, template_id, value, workspaces in rows:
        definition = ParameterDefinition.of(text)
        templates[definition].add(template_id)
        if value is not None:
            counts[definition][value] += int(workspaces)
    return [
        TemplateParameterUsage(
            template_ids=_uuids(templates[definition]),
            display_name=definition.display_name,
            name=definition.name,
            type=definition.type,
            description=definition.description,
            options=[
                TemplateParameterOption(name=n, description=d, value=v, icon=i) for n, d, v, i in definition.options
            ],
            values=[TemplateParameterValue(value=value, count=count) for value, count in sorted(values.items())],
        )
        for definition in sorted(templates)
        if (values := counts[definition])  # Coder joins the values: a definition nobody answered is not listed
    ]


def interval_bounds(start: datetime, end: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """API §1.5: [from, to) every `days` days of 24 hours from `start`, the last ending at `end`; in UTC."""
    step = timedelta(days=days)
    bounds = []
    begin, end = start.astimezone(UTC), end.astimezone(UTC)
    while begin < end:
        bounds.append((begin, min(begin + step, end)))
        begin += step
    return bounds


def _interval_reports(
    window: InsightsWindow, interval: InsightsReportInterval, result: QueryResult
) -> list[TemplateInsightsIntervalReport]:
    """The intervals are the request's arithmetic, so they are listed here, empty ones too; SQL counts the others."""
    users: dict[int, int] = {}
    templates: dict[int, list[str]] = defaultdict(list)
    for index, template_id, active_users in result.rows:
        if template_id is None:  # the interval's own row
            users[int(index)] = int(active_users)
        else:
            templates[int(index)].append(template_id)
    offset = timezone(window.start.utcoffset() or timedelta(0))  # Coder writes both ends in start's offset
    return [
        TemplateInsightsIntervalReport(
            start_time=begin.astimezone(offset),
            end_time=finish.astimezone(offset),
            template_ids=_uuids(templates[index]),
            interval=interval,
            active_users=users.get(index, 0),
        )
        for index, (begin, finish) in enumerate(interval_bounds(window.start, window.end, interval.days))
    ]


def _user_rows(
    engine: QueryEngine, sql: str, directory: DirectoryLookup | None, timeout: float | None
) -> tuple[list[tuple[str, tuple, list[str]]], Directory]:
    """A per-user report's rows (user id, values, templates) and the listed users' names."""
    rows = _per_user(_run_all(engine, {'users': sql}, timeout)['users'].rows)
    return rows, _names(rows, directory)


def _per_user(rows: list[tuple]) -> list[tuple[str, tuple, list[str]]]:
    """Rows of (user id, its measures..., one of its templates or None) as (user id, measures, templates), by id."""
    measures: dict[str, tuple] = {}
    templates: dict[str, list[str]] = defaultdict(list)
    for user_id, *values, template_id in rows:
        measures[user_id] = tuple(values)
        if template_id is not None:
            templates[user_id].append(template_id)
    return [(user_id, measures[user_id], sorted(templates[user_id])) for user_id in sorted(measures)]


def _names(rows: list[Any], directory: DirectoryLookup | None) -> Directory:
    return directory([user_id for user_id, *_ in rows]) if directory and rows else {}


def _user_fields(user_id: str, templates: list[str], directory: Directory) -> dict[str, Any]:
    username, avatar_url = directory.get(user_id, ('', ''))
    return {'template_ids': _uuids(templates), 'user_id': user_id, 'username': username, 'avatar_url': avatar_url}


def _union(users: Iterable[UserActivity | UserLatency]) -> list[UUID]:
    """API §2: the report's templates are its users' (sorted as text, as Go does)."""
    return _uuids({str(template_id) for user in users for template_id in user.template_ids})


def _uuids(template_ids: Iterable[str]) -> list[UUID]:
    return [UUID(template_id) for template_id in sorted(template_ids)]


# --- running --------------------------------------------------------------------------------------------------


def _run_all(engine: QueryEngine, statements: dict[str, str], timeout: float | None) -> dict[str, QueryResult]:
    """Every statement started at once, then waited for together."""
    names = list(statements)
    results = wait_for(engine, [engine.start(statements[name]) for name in names], timeout)
    if results is None:
        raise TimeoutError(f'Insights statements still running after {timeout} s')
    return dict(zip(names, results, strict=True))


# --- statements ---------------------------------------------------------------------------------------------


def _usage_rows(engine: QueryEngine, window: InsightsWindow) -> exp.Select:
    """The window's buckets (API §1.5), of the requested templates; a bucket of no template is of none of them."""
    conditions = _partition(window.project_id, window.utc_start, window.last_bucket_start)
    conditions += [
        exp.GTE(
            this=exp.column('bucket_start'), expression=timestamp_literal(_naive(window.utc_start), engine.dialect)
        ),
        exp.LTE(
            this=exp.column('bucket_start'),
            expression=timestamp_literal(_naive(window.last_bucket_start), engine.dialect),
        ),
    ]
    conditions += _of_templates(window)
    return _scan(engine.usage_source, engine.dialect, 'buckets', USAGE_COLUMNS, conditions)


def _window_builds(engine: QueryEngine, window: InsightsWindow) -> exp.Select:
    """The builds created in [start, end) (mapping §3), of a template."""
    last_instant = window.utc_end - timedelta(microseconds=1)
    conditions = _partition(window.project_id, window.utc_start, last_instant)
    conditions += [
        exp.GTE(this=exp.column('created_at'), expression=timestamp_literal(_naive(window.utc_start), engine.dialect)),
        exp.LT(this=exp.column('created_at'), expression=timestamp_literal(_naive(window.utc_end), engine.dialect)),
        exp.not_(exp.column('template_id').is_(exp.null())),
    ]
    conditions += _of_templates(window)
    return _scan(engine.builds_source, engine.dialect, 'builds', WINDOW_BUILD_COLUMNS, conditions)


def _kept_catalogue(engine: QueryEngine, window: InsightsWindow) -> exp.Select:
    """The project's app catalogue as the usage rollup keeps it, whatever the window; its row without a template
    (logic.app_catalogue.KEPT) too, which joins no usage but says the catalogue is there."""
    conditions = [_project(window.project_id)]
    return _scan(engine.catalogue_source, engine.dialect, 'catalogue', CATALOGUE_COLUMNS, conditions)


def _catalogue_builds(engine: QueryEngine, window: InsightsWindow) -> exp.Select:
    """Every build ever of the project, for a project without a kept catalogue: its only partition bound is the
    project, so its cost grows with the project's history."""
    conditions: list[exp.Expression] = [_project(window.project_id)]
    conditions += [exp.not_(exp.column('template_id').is_(exp.null())), *_of_templates(window)]
    return _scan(engine.builds_source, engine.dialect, 'builds', CATALOGUE_BUILD_COLUMNS, conditions)


def _project(project_id: str) -> exp.Expression:
    return exp.EQ(this=exp.column('project_id'), expression=exp.Literal.string(project_id))


def _partition(project_id: str, first: datetime, last: datetime) -> list[exp.Expression]:
    """The project and the `dt` days (UTC dates) from `first` to `last`."""
    return [
        _project(project_id),
        exp.GTE(this=exp.column('dt'), expression=exp.Literal.string(format_day(first))),
        exp.LTE(this=exp.column('dt'), expression=exp.Literal.string(format_day(last))),
    ]


def _of_templates(window: InsightsWindow) -> list[exp.Expression]:
    if not window.template_ids:
        return []
    values = [exp.Literal.string(template_id) for template_id in window.template_ids]
    return [exp.In(this=exp.column('template_id'), expressions=values)]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _scan(
    source: str, dialect: str, alias: str, columns: Iterable[str], conditions: list[exp.Expression]
) -> exp.Select:
    table = exp.alias_(_parse_source(source, dialect).copy(), alias, table=True)
    selected = [exp.column(name, quoted=True) for name in columns]
    return exp.select(*selected).from_(table, copy=False).where(exp.and_(*conditions), copy=False)


@cache
def _parse_source(source: str, dialect: str) -> exp.Expression:
    """Parsed once per source: callers copy it."""
    return sqlglot.parse_one(f'SELECT * FROM {source}', read=dialect).args['from_'].this


@cache
def _skeleton(text: str, dialect: str = 'trino') -> exp.Query:
    """A fixed statement, parsed once: callers copy it."""
    parsed = sqlglot.parse_one(text, read=dialect)
    assert isinstance(parsed, exp.Query)
    return parsed


def _render(engine: QueryEngine, text: str, sources: Mapping[str, exp.Expr], **values: exp.Expr) -> str:
    """The statement `text` with `sources` as its first CTEs (in order) and `values` for its placeholders."""
    statement = _skeleton(text).copy()
    own = statement.args.get('with_')
    ctes = list(own.expressions) if own else []
    statement.set('with_', None)
    for name, source in sources.items():
        statement = statement.with_(name, as_=source, copy=False)
    for cte in ctes:
        statement = statement.with_(cte.alias, as_=cte.this, copy=False)
    return exp.replace_placeholders(statement, **values).sql(dialect=engine.dialect)


def _capped(column: str) -> str:
    return f'LEAST(SUM({column}), {CAP_MINUTES}) AS {column}'


_REPORT_TOTALS = f"""
WITH per_user_bucket AS (
    SELECT bucket_start, user_id, {', '.join(_capped(f'{name}_minutes') for name in BUILTINS)}
    FROM usage_rows GROUP BY bucket_start, user_id
)
SELECT COUNT(DISTINCT user_id) AS active_users,
       {', '.join(f'CAST(COALESCE(SUM({name}_minutes), 0) * 60 AS BIGINT) AS {name}_seconds' for name in BUILTINS)}
FROM per_user_bucket
"""

_REPORT_TEMPLATES = f"""
SELECT template_id, {', '.join(f'MAX({name}_minutes) > 0 AS {name}_used' for name in BUILTINS)}
FROM usage_rows WHERE template_id IS NOT NULL GROUP BY template_id
"""


def _report_totals_sql(engine: QueryEngine, window: InsightsWindow) -> str:
    """Active users and each builtin's capped seconds (API §1.5 GetTemplateInsights)."""
    return _render(engine, _REPORT_TOTALS, {'usage_rows': _usage_rows(engine, window)})


def _report_templates_sql(engine: QueryEngine, window: InsightsWindow) -> str:
    """The templates with usage, and which builtins each had."""
    return _render(engine, _REPORT_TEMPLATES, {'usage_rows': _usage_rows(engine, window)})


# Each bucket's app keys and minutes: a JSON object, which each engine opens its own way.
_APP_ENTRIES = {
    'athena': """
        SELECT r.bucket_start, r.template_id, r.user_id, e.app_key, e.minutes
        FROM usage_rows AS r
        CROSS JOIN UNNEST(CAST(json_parse(r.app_minutes) AS MAP(VARCHAR, INTEGER))) AS e(app_key, minutes)
        WHERE r.template_id IS NOT NULL
    """,
    'duckdb': """
        SELECT r.bucket_start, r.template_id, r.user_id, e.key AS app_key, CAST(e.value AS INTEGER) AS minutes
        FROM usage_rows AS r, json_each(r.app_minutes) AS e
        WHERE r.template_id IS NOT NULL
    """,
}

# The catalogue, per (template, slug) the newest definition (mapping §3), as the usage rollup keeps it; and a row
# of nulls when the project has none yet (not even its `KEPT` row).
_KEPT_CATALOGUE = (
    'catalogue AS (SELECT template_id, slug, display_name, icon FROM catalogue_rows WHERE template_id IS NOT NULL)'
)
_NO_KEPT_CATALOGUE = """
SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS BIGINT),
       CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR)
FROM (SELECT COUNT(*) AS kept_rows FROM catalogue_rows) AS kept WHERE kept_rows = 0
"""

# The same made from every build of the project, for a project without one, by logic.app_catalogue's rule: the
# newest build, a tie the later received, then the smaller display name and icon.
_CATALOGUE_FROM_BUILDS = """
catalogue AS (
    SELECT template_id, slug, display_name, icon FROM (
        SELECT template_id, slug, display_name, icon,
               row_number() OVER (
                   PARTITION BY template_id, slug ORDER BY created_at DESC, received_at DESC, display_name, icon
               ) AS newest
        FROM (
            SELECT b.template_id, b.created_at, b.received_at,
                   json_extract_scalar(a.app_json, '$.slug') AS slug,
                   json_extract_scalar(a.app_json, '$.display_name') AS display_name,
                   json_extract_scalar(a.app_json, '$.icon') AS icon
            FROM catalogue_builds AS b CROSS JOIN UNNEST(CAST(json_parse(b.apps) AS ARRAY(JSON))) AS a(app_json)
        ) AS app_definitions
    ) AS definitions
    WHERE newest = 1
)"""

# Usage of a key its template's catalogue defines, grouped by (slug, display name, icon), capped per (bucket,
# user); a run of back-to-back buckets of one user is one use (`times_used`, API §1.5).
_APP_USAGE = f"""
app_usage AS (
    SELECT c.slug, c.display_name, c.icon, e.template_id, e.bucket_start, e.user_id, e.minutes
    FROM app_entries AS e JOIN catalogue AS c ON c.template_id = e.template_id AND c.slug = e.app_key
),
per_user_bucket AS (
    SELECT slug, display_name, icon, user_id, CAST(to_unixtime(bucket_start) AS BIGINT) AS bucket_epoch,
           LEAST(SUM(minutes), {CAP_MINUTES}) AS minutes
    FROM app_usage GROUP BY slug, display_name, icon, user_id, bucket_start
),
runs AS (
    SELECT slug, display_name, icon, minutes,
           CASE WHEN bucket_epoch - LAG(bucket_epoch) OVER (
                    PARTITION BY slug, display_name, icon, user_id ORDER BY bucket_epoch
                ) = {BUCKET_SECONDS} THEN 0 ELSE 1 END AS starts_run
    FROM per_user_bucket
),
totals AS (
    SELECT slug, display_name, icon, CAST(SUM(minutes) * 60 AS BIGINT) AS seconds,
           CAST(SUM(starts_run) AS BIGINT) AS times_used
    FROM runs GROUP BY slug, display_name, icon
),
app_templates AS (SELECT DISTINCT slug, display_name, icon, template_id FROM app_usage)
SELECT t.slug, t.display_name, t.icon, t.seconds, t.times_used, a.template_id
FROM totals AS t
JOIN app_templates AS a ON a.slug = t.slug AND a.display_name = t.display_name AND a.icon = t.icon
"""
_APPS = f'WITH {_KEPT_CATALOGUE}, {_APP_USAGE} UNION ALL {_NO_KEPT_CATALOGUE}'
_APPS_FROM_BUILDS = f'WITH {_CATALOGUE_FROM_BUILDS}, {_APP_USAGE}'


def _apps_sql(engine: QueryEngine, window: InsightsWindow, kept: bool = True) -> str:
    """Per app group and template with its usage: the group's seconds and times used (GetTemplateAppInsights), by
    the kept catalogue, or (not `kept`) by one made from every build."""
    sources = {
        'usage_rows': _usage_rows(engine, window),
        'app_entries': _skeleton(_APP_ENTRIES[engine.dialect], engine.dialect).copy(),
    }
    if kept:
        return _render(engine, _APPS, sources | {'catalogue_rows': _kept_catalogue(engine, window)})
    return _render(engine, _APPS_FROM_BUILDS, sources | {'catalogue_builds': _catalogue_builds(engine, window)})


def _catalogue_missing(apps: QueryResult) -> bool:
    """The apps statement's row of nulls (an app's slug is never null): the project has no kept catalogue."""
    return any(slug is None for slug, *_ in apps.rows)


# Per (template, workspace) its build of the highest number created in the window (a tie: the first received);
# each definition of that build's template version, and the workspace's value for it.
_PARAMETERS = """
WITH latest AS (
    SELECT template_id, workspace_id, parameters, template_parameters FROM (
        SELECT template_id, workspace_id, parameters, template_parameters,
               row_number() OVER (
                   PARTITION BY template_id, workspace_id ORDER BY build_number DESC, received_at
               ) AS newest
        FROM window_builds
    ) AS numbered
    WHERE newest = 1
),
definitions AS (
    SELECT l.template_id, l.workspace_id, json_extract_scalar(d.definition_json, '$.name') AS name,
           json_format(d.definition_json) AS definition_text
    FROM latest AS l CROSS JOIN UNNEST(CAST(json_parse(l.template_parameters) AS ARRAY(JSON))) AS d(definition_json)
),
parameter_values AS (
    SELECT l.template_id, l.workspace_id, json_extract_scalar(p.parameter_json, '$.name') AS name,
           json_extract_scalar(p.parameter_json, '$.value') AS parameter_value
    FROM latest AS l CROSS JOIN UNNEST(CAST(json_parse(l.parameters) AS ARRAY(JSON))) AS p(parameter_json)
)
SELECT d.definition_text, d.template_id, v.parameter_value, COUNT(v.parameter_value) AS workspaces
FROM definitions AS d
LEFT JOIN parameter_values AS v
  ON v.template_id = d.template_id AND v.workspace_id = d.workspace_id AND v.name = d.name
GROUP BY d.definition_text, d.template_id, v.parameter_value
"""


def _parameters_sql(engine: QueryEngine, window: InsightsWindow) -> str:
    """Per (definition, template, value): the workspaces whose latest build in the window has it (mapping §3)."""
    return _render(engine, _PARAMETERS, {'window_builds': _window_builds(engine, window)})


# A bucket's interval is counted from `start` in seconds (days of 24 hours, API §1.5); it is in it only if it
# also ends by the interval's end (a start off the half hour makes buckets straddle two intervals).
_INTERVALS = f"""
WITH placed AS (
    SELECT user_id, template_id, CAST(to_unixtime(bucket_start) AS BIGINT) - :start_epoch AS offset_seconds
    FROM usage_rows
),
indexed AS (
    SELECT user_id, template_id, offset_seconds,
           CAST(FLOOR(CAST(offset_seconds AS DOUBLE) / :period_seconds) AS BIGINT) AS interval_index
    FROM placed
),
in_interval AS (
    SELECT user_id, template_id, interval_index FROM indexed
    WHERE offset_seconds + {BUCKET_SECONDS} <= LEAST((interval_index + 1) * :period_seconds, :window_seconds)
)
SELECT interval_index, CAST(NULL AS VARCHAR) AS template_id, COUNT(DISTINCT user_id) AS active_users
FROM in_interval GROUP BY interval_index
UNION ALL
SELECT interval_index, template_id, 0 AS active_users
FROM in_interval WHERE template_id IS NOT NULL GROUP BY interval_index, template_id
"""


def _intervals_sql(engine: QueryEngine, window: InsightsWindow, days: int) -> str:
    """Per interval with usage: its active users (a row without template) and its templates (a row each)."""
    return _render(
        engine,
        _INTERVALS,
        {'usage_rows': _usage_rows(engine, window)},
        start_epoch=exp.Literal.number(_epoch(window.start)),
        period_seconds=exp.Literal.number(days * 86_400),
        window_seconds=exp.Literal.number(_epoch(window.end) - _epoch(window.start)),
    )


def _epoch(moment: datetime) -> int:
    """Whole seconds: insights times are whole hours (the parameter checks)."""
    return int(moment.timestamp())


_USER_TEMPLATES = (
    'user_templates AS (SELECT DISTINCT user_id, template_id FROM usage_rows WHERE template_id IS NOT NULL)'
)

_USER_ACTIVITY = f"""
WITH per_user_bucket AS (
    SELECT user_id, bucket_start, LEAST(SUM(usage_minutes), {CAP_MINUTES}) AS minutes
    FROM usage_rows GROUP BY user_id, bucket_start
),
activity AS (SELECT user_id, CAST(SUM(minutes) * 60 AS BIGINT) AS seconds FROM per_user_bucket GROUP BY user_id),
{_USER_TEMPLATES}
SELECT a.user_id, a.seconds, t.template_id
FROM activity AS a LEFT JOIN user_templates AS t ON t.user_id = a.user_id
"""


def _user_activity_sql(engine: QueryEngine, window: InsightsWindow) -> str:
    """Per user and template of its usage: the user's capped seconds (GetUserActivityInsights)."""
    return _render(engine, _USER_ACTIVITY, {'usage_rows': _usage_rows(engine, window)})


def _percentile(name: str) -> str:
    """Postgres' percentile_cont from a user's ranked medians (Athena has no exact one): the two nearest ranks of
    `fraction × (n - 1)`, interpolated as `low + (high - low) × (rank - floor(rank))`."""
    return f"""
        MAX(CASE WHEN median_index = FLOOR({name}_rank) THEN median END) AS {name}_low,
        MAX(CASE WHEN median_index = CEIL({name}_rank) THEN median END) AS {name}_high,
        MAX({name}_rank - FLOOR({name}_rank)) AS {name}_fraction"""


def _interpolated(name: str) -> str:
    return f'COALESCE(p.{name}_low + (p.{name}_high - p.{name}_low) * p.{name}_fraction, CAST(-1 AS DOUBLE)) AS {name}'


_USER_LATENCY = f"""
WITH medians AS (
    SELECT user_id, CAST(median_latency_ms AS DOUBLE) AS median,
           row_number() OVER (PARTITION BY user_id ORDER BY median_latency_ms) - 1 AS median_index,
           CAST(count(*) OVER (PARTITION BY user_id) - 1 AS DOUBLE) AS last_index
    FROM usage_rows WHERE median_latency_ms IS NOT NULL
),
ranked AS (
    SELECT user_id, median, median_index,
           CAST(0.5 AS DOUBLE) * last_index AS p50_rank, CAST(0.95 AS DOUBLE) * last_index AS p95_rank
    FROM medians
),
percentiles AS (
    SELECT user_id, {_percentile('p50')}, {_percentile('p95')}
    FROM ranked GROUP BY user_id
),
latency_users AS (SELECT DISTINCT user_id FROM usage_rows),
{_USER_TEMPLATES}
SELECT u.user_id, {_interpolated('p50')}, {_interpolated('p95')}, t.template_id
FROM latency_users AS u
LEFT JOIN percentiles AS p ON p.user_id = u.user_id
LEFT JOIN user_templates AS t ON t.user_id = u.user_id
"""


def _user_latency_sql(engine: QueryEngine, window: InsightsWindow) -> str:
    """Per user and template of its usage: the user's latency percentiles (GetUserLatencyInsights)."""
    return _render(engine, _USER_LATENCY, {'usage_rows': _usage_rows(engine, window)})
