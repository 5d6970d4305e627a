"""An independent plain-Python reference of the insights rules, over ingestion request bodies.

Written from /work/shared/specs/insights-event-mapping.md (the rules; a bare § is that page's) and
insights-api-semantics.md (the answers' shapes; "API §"), without reading the product's insights code: the tests
compare the product's answers with these. Where the pages leave a point open, Coder's own SQL decides, and the
docstring says so.

Events are the bodies sent to `POST /api/v1/analytics/batch`, in sending order. Times given to the answers are
aware datetimes; request times keep the offset they were sent with.
"""

import math
import re
import struct
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as fixed_offset
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
BUCKET = timedelta(minutes=30)
DAY = timedelta(days=1)
ONE_MICROSECOND = timedelta(microseconds=1)
DORMANT_AFTER = timedelta(days=90)
BUILTINS = ('vscode', 'jetbrains', 'reconnecting_pty', 'ssh', 'sftp')
# API §1.4: the five builtins, always listed first in this order (field, slug, display name, icon).
BUILTIN_APPS = (
    ('vscode', 'vscode', 'Visual Studio Code', '/icon/code.svg'),
    ('jetbrains', 'jetbrains', 'JetBrains', '/icon/intellij.svg'),
    ('reconnecting_pty', 'reconnecting-pty', 'Web Terminal', '/icon/terminal.svg'),
    ('ssh', 'ssh', 'SSH', '/icon/terminal.svg'),
    ('sftp', 'sftp', 'SFTP', '/icon/terminal.svg'),
)
AGENT_STATS = 'workspace.agent_stats'
APP_SESSION = 'workspace.app_session'
BUILD = 'workspace.build'
STATUS_EVENTS = ('user.created', 'user.status_changed')
USER_EVENTS = (*STATUS_EVENTS, 'user.deleted')
NOT_ACTIVITY = frozenset({AGENT_STATS, APP_SESSION, BUILD, *USER_EVENTS})
TERMINAL_KEY = '[terminal]'
DEFAULT_SECTIONS = ('interval_reports', 'report')
INTERVAL_DAYS = {'day': 1, 'week': 7}
CANONICAL_UUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')

BucketKey = tuple[datetime, str | None, str]  # (bucket start in UTC, template id or None, user id)


# --- reading events -----------------------------------------------------------------------------------------


def moment_of(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def user_id_of(event: dict[str, Any]) -> str | None:
    return (event.get('user') or {}).get('id') or event.get('user_id')


def template_of(event: dict[str, Any]) -> str | None:
    """The template id, or None when absent or not a UUID (§1: such an event counts without a template)."""
    value = event.get('template_id')
    return value.lower() if isinstance(value, str) and CANONICAL_UUID.fullmatch(value) else None


def properties_of(event: dict[str, Any]) -> dict[str, Any]:
    return event.get('properties') or {}


def unique_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in sending order, each client `event_id` once (§1: a re-send counts once)."""
    seen: set[str] = set()
    unique = []
    for event in events:
        if event.get('event_id') is not None:
            event_id = str(uuid.UUID(str(event['event_id'])))
            if event_id in seen:
                continue
            seen.add(event_id)
        unique.append(event)
    return unique


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def bucket_of(moment: datetime) -> datetime:
    """§2: 30-minute buckets aligned on UTC."""
    return moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)


def float32(value: float) -> float:
    """§2.4: the median is stored as a 32-bit float (Coder's `real`) and read back widened."""
    return struct.unpack('<f', struct.pack('<f', value))[0]


def percentile_cont(values: Iterable[float], fraction: float) -> float:
    """Postgres `percentile_cont`: linear interpolation between the two nearest ranks (`lo + (hi - lo) * f`)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = ordered[math.floor(position)], ordered[math.ceil(position)]
    return lower + (upper - lower) * (position - math.floor(position))


# --- §2 usage buckets ---------------------------------------------------------------------------------------


@dataclass
class Bucket:
    """One row of Coder's `template_usage_stats`: (bucket, template, user)."""

    active_minutes: set[datetime] = field(default_factory=set)
    builtin_minutes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUILTINS, 0))
    app_minutes: dict[str, int] = field(default_factory=dict)
    median_latency_ms: float | None = None

    @property
    def usage_minutes(self) -> int:
        return len(self.active_minutes)


@dataclass
class _AgentMinutes:
    minutes: set[datetime] = field(default_factory=set)
    builtins: dict[str, set[datetime]] = field(default_factory=lambda: {name: set() for name in BUILTINS})
    largest_connection_count: int = 0


@dataclass
class AppSession:
    user_id: str
    template_id: str | None
    key: str
    started_at: datetime
    ended_at: datetime
    requests: int


def _key(moment: datetime, event: dict[str, Any]) -> BucketKey:
    return bucket_of(moment), template_of(event), user_id_of(event)


def _agent_minutes(events: list[dict[str, Any]]) -> dict[BucketKey, _AgentMinutes]:
    """§2.1, as Coder's rollup: only reports with a session count > 0 (sftp included) give minutes, and the
    half-hour gate looks at the largest `connection_count` among those same reports."""
    parts: dict[BucketKey, _AgentMinutes] = defaultdict(_AgentMinutes)
    for event in events:
        if event.get('event_name') != AGENT_STATS or not user_id_of(event):
            continue
        properties = properties_of(event)
        counts = {name: int(properties.get(f'session_count_{name}') or 0) for name in BUILTINS}
        if not any(count > 0 for count in counts.values()):
            continue
        at = moment_of(event['timestamp'])
        part = parts[_key(at, event)]
        part.minutes.add(minute_of(at))
        for name, count in counts.items():
            if count > 0:
                part.builtins[name].add(minute_of(at))
        part.largest_connection_count = max(part.largest_connection_count, int(properties.get('connection_count') or 0))
    return parts


def _latency_reports(events: list[dict[str, Any]]) -> dict[BucketKey, list[tuple[datetime, float]]]:
    """§2.4: every report's non-zero latency with its minute, sessions or not."""
    reports: dict[BucketKey, list[tuple[datetime, float]]] = defaultdict(list)
    for event in events:
        if event.get('event_name') != AGENT_STATS or not user_id_of(event):
            continue
        latency = float(properties_of(event).get('connection_median_latency_ms') or 0)
        if latency > 0:
            at = moment_of(event['timestamp'])
            reports[_key(at, event)].append((minute_of(at), latency))
    return reports


def app_sessions(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], AppSession]:
    """§2.2: sessions keyed (user, agent, session); a later send replaces the end and the request count only if
    both are >= what is kept (Coder's upsert). Sends are taken in sending order."""
    sessions: dict[tuple[str, str, str], AppSession] = {}
    for event in events:
        user_id = user_id_of(event)
        properties = properties_of(event)
        if event.get('event_name') != APP_SESSION or not user_id or not properties.get('session_ended_at'):
            continue
        key = (user_id, str(properties.get('agent_id')), str(event.get('session_id')))
        ended_at = moment_of(properties['session_ended_at'])
        requests = int(properties.get('requests') or 0)
        kept = sessions.get(key)
        if kept is None:
            started_at = moment_of(properties.get('session_started_at') or event['timestamp'])
            app_key = (
                TERMINAL_KEY
                if properties.get('access_method') == 'terminal'
                else str(properties.get('slug_or_port') or '')
            )
            sessions[key] = AppSession(user_id, template_of(event), app_key, started_at, ended_at, requests)
        elif ended_at >= kept.ended_at and requests >= kept.requests:
            kept.ended_at, kept.requests = ended_at, requests
    return sessions


def session_minutes(started_at: datetime, ended_at: datetime) -> list[datetime]:
    """§2.2: trunc_minute(start) .. trunc_minute(end - 1 µs), each once (none when the session has no length)."""
    minutes = []
    minute, last = minute_of(started_at), minute_of(ended_at - ONE_MICROSECOND)
    while minute <= last:
        minutes.append(minute)
        minute += MINUTE
    return minutes


def _app_minutes(events: list[dict[str, Any]]) -> dict[BucketKey, dict[str, set[datetime]]]:
    apps: dict[BucketKey, dict[str, set[datetime]]] = defaultdict(lambda: defaultdict(set))
    for session in app_sessions(events).values():
        for minute in session_minutes(session.started_at, session.ended_at):
            apps[bucket_of(minute), session.template_id, session.user_id][session.key].add(minute)
    return apps


def _activity_minutes(events: list[dict[str, Any]]) -> dict[BucketKey, set[datetime]]:
    """§1: any other event with a user makes its minute active for (its template or none, user)."""
    minutes: dict[BucketKey, set[datetime]] = defaultdict(set)
    for event in events:
        if event.get('event_name') in NOT_ACTIVITY or not user_id_of(event):
            continue
        at = moment_of(event['timestamp'])
        minutes[_key(at, event)].add(minute_of(at))
    return minutes


def usage_buckets(events: Iterable[dict[str, Any]]) -> dict[BucketKey, Bucket]:
    """§2: the usage bucket of every (bucket start, template or None, user) that has an active minute."""
    events = unique_events(events)
    agents = _agent_minutes(events)
    apps = _app_minutes(events)
    activity = _activity_minutes(events)
    latencies = _latency_reports(events)
    buckets = {}
    for key in {*agents, *apps, *activity}:
        bucket = Bucket()
        agent = agents.get(key)
        if agent is not None and agent.largest_connection_count > 0:
            bucket.active_minutes |= agent.minutes
            bucket.builtin_minutes = {name: len(minutes) for name, minutes in agent.builtins.items()}
        for app_key, minutes in apps.get(key, {}).items():
            bucket.active_minutes |= minutes
            bucket.app_minutes[app_key] = len(minutes)
        bucket.active_minutes |= activity.get(key, set())
        if not bucket.active_minutes:
            continue
        medians = [latency for minute, latency in latencies.get(key, []) if minute in bucket.active_minutes]
        bucket.median_latency_ms = float32(percentile_cont(medians, 0.5)) if medians else None
        buckets[key] = bucket
    return buckets


# --- §1 user directory, §3 catalogue and builds -------------------------------------------------------------


def user_directory(events: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """§1: per user id, (username, avatar_url) of its latest event by timestamp (a tie: the later send)."""
    latest: dict[str, tuple[datetime, str, str]] = {}
    for event in unique_events(events):
        user_id = user_id_of(event)
        if not user_id:
            continue
        at = moment_of(event['timestamp'])
        if user_id not in latest or at >= latest[user_id][0]:
            user = event.get('user') or {}
            latest[user_id] = (at, user.get('username') or '', user.get('avatar_url') or '')
    return {user_id: (username, avatar_url) for user_id, (_, username, avatar_url) in latest.items()}


@dataclass(frozen=True)
class AppDefinition:
    display_name: str
    icon: str
    defined_at: datetime


def app_catalogue(events: Iterable[dict[str, Any]]) -> dict[tuple[str, str], AppDefinition]:
    """§3: per (template, slug), the newest definition over every build ever (a tie: the later send)."""
    catalogue: dict[tuple[str, str], AppDefinition] = {}
    for event in unique_events(events):
        template_id = template_of(event)
        if event.get('event_name') != BUILD or template_id is None:
            continue
        at = moment_of(event['timestamp'])
        for app in properties_of(event).get('apps') or []:
            known = catalogue.get((template_id, app['slug']))
            if known is None or at >= known.defined_at:
                definition = AppDefinition(app.get('display_name') or '', app.get('icon') or '', at)
                catalogue[template_id, app['slug']] = definition
    return catalogue


Option = tuple[str, str, str, str]  # (name, description, value, icon), Coder's TemplateVersionParameterOption


@dataclass(frozen=True, order=True)
class ParameterDefinition:
    """Field order is the §3 sort order: name, type, display_name, description, options."""

    name: str
    type: str
    display_name: str
    description: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Build:
    template_id: str
    workspace_id: str
    build_number: int
    created_at: datetime
    values: tuple[tuple[str, str], ...]
    definitions: tuple[ParameterDefinition, ...]


def _definition(raw: dict[str, Any]) -> ParameterDefinition:
    options = tuple(
        (option.get('name', ''), option.get('description', ''), option.get('value', ''), option.get('icon', ''))
        for option in raw.get('options') or []
    )
    return ParameterDefinition(
        raw.get('name', ''), raw.get('type', ''), raw.get('display_name', ''), raw.get('description', ''), options
    )


def workspace_builds(events: Iterable[dict[str, Any]]) -> list[Build]:
    """Every `workspace.build` of a template (a build without a UUID template belongs to none, §1)."""
    builds = []
    for event in unique_events(events):
        template_id = template_of(event)
        if event.get('event_name') != BUILD or template_id is None:
            continue
        properties = properties_of(event)
        values = tuple((item['name'], str(item.get('value', ''))) for item in properties.get('parameters') or [])
        definitions = tuple(_definition(raw) for raw in properties.get('template_parameters') or [])
        builds.append(
            Build(
                template_id,
                str(properties.get('workspace_id')),
                int(properties.get('build_number') or 0),
                moment_of(event['timestamp']),
                values,
                definitions,
            )
        )
    return builds


# --- shared answer parts ------------------------------------------------------------------------------------


def go_time(moment: datetime) -> str:
    """How Go writes a time in JSON: RFC 3339 in the time's own offset, `Z` for a zero offset (§4)."""
    text = moment.strftime('%Y-%m-%dT%H:%M:%S')
    if moment.microsecond:
        text += f'.{moment.microsecond:06d}'.rstrip('0')
    seconds = int(moment.utcoffset().total_seconds())
    if seconds == 0:
        return text + 'Z'
    sign = '+' if seconds > 0 else '-'
    return f'{text}{sign}{abs(seconds) // 3600:02d}:{abs(seconds) % 3600 // 60:02d}'


def _in_offset_of(moment: datetime, request_time: datetime) -> datetime:
    return moment.astimezone(fixed_offset(request_time.utcoffset()))


def _wanted(template_ids: Iterable[str]) -> set[str]:
    return {template_id.lower() for template_id in template_ids}


def _rows(
    buckets: dict[BucketKey, Bucket], start: datetime, end: datetime, template_ids: Iterable[str]
) -> list[tuple[BucketKey, Bucket]]:
    """API §1.5: buckets with start >= from and end <= to, of the requested templates (all when none); a bucket
    without a template belongs to no requested template."""
    wanted = _wanted(template_ids)
    return [
        (key, bucket)
        for key, bucket in buckets.items()
        if start <= key[0] and key[0] + BUCKET <= end and (not wanted or key[1] in wanted)
    ]


def _template_list(template_ids: Iterable[str | None]) -> list[str]:
    return sorted({template_id for template_id in template_ids if template_id is not None})


def _capped_seconds(rows: list[tuple[BucketKey, Bucket]], minutes_of: Callable[[Bucket], int]) -> int:
    """§4: minutes summed across templates per (bucket, user), capped at 30, then summed; seconds = minutes × 60."""
    per_slot: dict[tuple[datetime, str], int] = defaultdict(int)
    for (start, _, user_id), bucket in rows:
        per_slot[start, user_id] += minutes_of(bucket)
    return 60 * sum(min(minutes, 30) for minutes in per_slot.values())


def runs_of_consecutive_buckets(starts: Iterable[datetime]) -> int:
    """§4 `times_used`: a run of back-to-back 30-minute buckets counts once."""
    ordered = sorted(set(starts))
    return sum(1 for index, start in enumerate(ordered) if index == 0 or ordered[index - 1] + BUCKET != start)


# --- /insights/templates ------------------------------------------------------------------------------------


def _builtin_usage(rows: list[tuple[BucketKey, Bucket]]) -> list[dict[str, Any]]:
    return [
        {
            'template_ids': _template_list(key[1] for key, bucket in rows if bucket.builtin_minutes[name] > 0),
            'type': 'builtin',
            'display_name': display_name,
            'slug': slug,
            'icon': icon,
            'seconds': _capped_seconds(rows, lambda bucket, name=name: bucket.builtin_minutes[name]),
            'times_used': 0,
        }
        for name, slug, display_name, icon in BUILTIN_APPS
    ]


def _app_usage(
    rows: list[tuple[BucketKey, Bucket]], catalogue: dict[tuple[str, str], AppDefinition]
) -> list[dict[str, Any]]:
    """§2.2/§3/§4: only keys the template's catalogue defines, grouped by (slug, display name, icon)."""
    minutes: dict[tuple[str, str, str], dict[tuple[datetime, str], int]] = defaultdict(lambda: defaultdict(int))
    templates: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for (start, template_id, user_id), bucket in rows:
        for key, count in bucket.app_minutes.items():
            definition = catalogue.get((template_id, key)) if template_id else None
            if definition is None:
                continue
            group = (key, definition.display_name, definition.icon)
            minutes[group][start, user_id] += count
            templates[group].add(template_id)
    usage = []
    for group in sorted(minutes):
        slug, display_name, icon = group
        starts_by_user: dict[str, list[datetime]] = defaultdict(list)
        for start, user_id in minutes[group]:
            starts_by_user[user_id].append(start)
        usage.append(
            {
                'template_ids': sorted(templates[group]),
                'type': 'app',
                'display_name': display_name,
                'slug': slug,
                'icon': icon,
                'seconds': 60 * sum(min(count, 30) for count in minutes[group].values()),
                'times_used': sum(runs_of_consecutive_buckets(starts) for starts in starts_by_user.values()),
            }
        )
    return usage


def _latest_builds(builds: list[Build], start: datetime, end: datetime, template_ids: Iterable[str]) -> list[Build]:
    """§3: per (template, workspace), the highest build_number among its builds created in [start, end)."""
    wanted = _wanted(template_ids)
    latest: dict[tuple[str, str], Build] = {}
    for build in builds:
        if not start <= build.created_at < end or (wanted and build.template_id not in wanted):
            continue
        key = (build.template_id, build.workspace_id)
        if key not in latest or build.build_number > latest[key].build_number:
            latest[key] = build
    return list(latest.values())


def parameters_usage(
    builds: list[Build], start: datetime, end: datetime, template_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """§3: identical definitions grouped across templates; `count` = workspaces with each value; definitions
    without any value are left out (Coder joins values)."""
    templates: dict[ParameterDefinition, set[str]] = defaultdict(set)
    counts: dict[ParameterDefinition, Counter[str]] = defaultdict(Counter)
    for build in _latest_builds(builds, start, end, template_ids):
        for definition in build.definitions:
            templates[definition].add(build.template_id)
            counts[definition].update(value for name, value in build.values if name == definition.name)
    usage = []
    for definition in sorted(templates):
        if not counts[definition]:
            continue
        entry: dict[str, Any] = {
            'template_ids': sorted(templates[definition]),
            'display_name': definition.display_name,
            'name': definition.name,
            'type': definition.type,
            'description': definition.description,
        }
        if definition.options:  # API §1.4: `options` omitted when empty
            entry['options'] = [
                {'name': name, 'description': description, 'value': value, 'icon': icon}
                for name, description, value, icon in definition.options
            ]
        entry['values'] = [{'value': value, 'count': counts[definition][value]} for value in sorted(counts[definition])]
        usage.append(entry)
    return usage


def interval_bounds(start: datetime, end: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """API §1.5: from = start, start + N days, … while before end; to = min(from + N days, end). Days are 24 h
    (Postgres in UTC)."""
    bounds = []
    step = days * DAY
    from_ = start
    while from_ < end:
        bounds.append((from_, min(from_ + step, end)))
        from_ += step
    return bounds


def _active_in(rows: list[tuple[BucketKey, Bucket]], from_: datetime, to: datetime) -> list[BucketKey]:
    """§4: a bucket is in an interval if start >= from, start < to and end <= to."""
    return [key for key, _ in rows if from_ <= key[0] < to and key[0] + BUCKET <= to]


def _interval_reports(
    buckets: dict[BucketKey, Bucket], start: datetime, end: datetime, template_ids: Iterable[str], interval: str
) -> list[dict[str, Any]]:
    rows = _rows(buckets, start, end, template_ids)
    reports = []
    for from_, to in interval_bounds(start.astimezone(UTC), end.astimezone(UTC), INTERVAL_DAYS[interval]):
        keys = _active_in(rows, from_, to)
        reports.append(
            {
                # Coder writes both ends in the request's start_time offset
                'start_time': go_time(_in_offset_of(from_, start)),
                'end_time': go_time(_in_offset_of(to, start)),
                'template_ids': _template_list(template_id for _, template_id, _ in keys),
                'interval': interval,
                'active_users': len({user_id for _, _, user_id in keys}),
            }
        )
    return reports


def template_insights(
    buckets: dict[BucketKey, Bucket],
    catalogue: dict[tuple[str, str], AppDefinition],
    builds: list[Build],
    start: datetime,
    end: datetime,
    template_ids: Iterable[str] = (),
    interval: str | None = None,
    sections: Iterable[str] = DEFAULT_SECTIONS,
) -> dict[str, Any]:
    """The body of `GET /api/v2/insights/templates` (API §1.4): `report` only when requested, `interval_reports`
    only when an interval is asked, requested, and not empty."""
    template_ids = list(template_ids)
    sections = list(sections)
    body: dict[str, Any] = {}
    if 'report' in sections:
        rows = _rows(buckets, start, end, template_ids)
        body['report'] = {
            'start_time': go_time(start),
            'end_time': go_time(end),
            'template_ids': _template_list(template_id for (_, template_id, _), _ in rows),
            'active_users': len({user_id for (_, _, user_id), _ in rows}),
            'apps_usage': _builtin_usage(rows) + _app_usage(rows, catalogue),
            'parameters_usage': parameters_usage(builds, start, end, template_ids),
        }
    if interval and 'interval_reports' in sections:
        reports = _interval_reports(buckets, start, end, template_ids, interval)
        if reports:
            body['interval_reports'] = reports
    return body


# --- /insights/user-activity and /insights/user-latency -----------------------------------------------------


def _user_reports(
    rows: list[tuple[BucketKey, Bucket]],
    directory: dict[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    measure: Callable[[list[tuple[BucketKey, Bucket]]], tuple[str, Any]],
) -> dict[str, Any]:
    """API §2/§3: one entry per user with rows in the window, by user id; the report's templates are theirs."""
    rows_by_user: dict[str, list[tuple[BucketKey, Bucket]]] = defaultdict(list)
    for row in rows:
        rows_by_user[row[0][2]].append(row)
    users = []
    for user_id in sorted(rows_by_user):
        username, avatar_url = directory.get(user_id, ('', ''))
        name, value = measure(rows_by_user[user_id])
        users.append(
            {
                'template_ids': _template_list(key[1] for key, _ in rows_by_user[user_id]),
                'user_id': user_id,
                'username': username,
                'avatar_url': avatar_url,
                name: value,
            }
        )
    report = {
        'start_time': go_time(start),
        'end_time': go_time(end),
        'template_ids': sorted({template_id for user in users for template_id in user['template_ids']}),
        'users': users,
    }
    return {'report': report}


def user_activity(
    buckets: dict[BucketKey, Bucket],
    directory: dict[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    template_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The body of `GET /api/v2/insights/user-activity`: seconds = capped usage minutes × 60 (§4)."""
    rows = _rows(buckets, start, end, template_ids)
    return _user_reports(
        rows,
        directory,
        start,
        end,
        lambda user_rows: ('seconds', _capped_seconds(user_rows, lambda bucket: bucket.usage_minutes)),
    )


def _latency(user_rows: list[tuple[BucketKey, Bucket]]) -> tuple[str, dict[str, float]]:
    """§4: percentiles of the user's bucket medians; -1 for both when it has none."""
    medians = [bucket.median_latency_ms for _, bucket in user_rows if bucket.median_latency_ms is not None]
    if not medians:
        return 'latency_ms', {'p50': -1.0, 'p95': -1.0}
    return 'latency_ms', {'p50': percentile_cont(medians, 0.5), 'p95': percentile_cont(medians, 0.95)}


def user_latency(
    buckets: dict[BucketKey, Bucket],
    directory: dict[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    template_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The body of `GET /api/v2/insights/user-latency`."""
    return _user_reports(_rows(buckets, start, end, template_ids), directory, start, end, _latency)


# --- §5 DAUs ------------------------------------------------------------------------------------------------


def next_full_hour(now: datetime) -> datetime:
    """Go's `now.Truncate(time.Hour).Add(time.Hour)`: truncation on absolute (UTC) time."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def dau_days(now: datetime, tz_offset: int = 0, timezone: str | None = None) -> list[tuple[datetime, datetime, str]]:
    """(from, to, label) of each DAU entry.

    `tz_offset`, as Coder's server: UTC days from the UTC midnight of the next full hour minus 60 days, each labelled
    with its start's date in FixedZone(tz_offset hours), east-positive (so -2 labels every UTC day a day early).
    `timezone`: the same window built on that zone's local midnights, from the local date of the next full hour
    minus 60 days, labelled with the local date."""
    end = next_full_hour(now)
    days = []
    if timezone is None:
        label_zone = fixed_offset(timedelta(hours=tz_offset))
        for from_, to in interval_bounds(end.replace(hour=0) - 60 * DAY, end, 1):
            days.append((from_, to, from_.astimezone(label_zone).date().isoformat()))
        return days
    zone = ZoneInfo(timezone)
    day = end.astimezone(zone).date() - timedelta(days=60)
    while (from_ := _local_midnight(day, zone)) < end:
        days.append((from_, min(_local_midnight(day + timedelta(days=1), zone), end), day.isoformat()))
        day += timedelta(days=1)
    return days


def daus(
    buckets: dict[BucketKey, Bucket],
    now: datetime,
    tz_offset: int = 0,
    timezone: str | None = None,
    template_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The body of `GET /api/v2/insights/daus` (or `/templates/{id}/daus` with one template id): a user counts on a
    day with at least one usage bucket inside it. `tz_hour_offset` echoes `tz_offset` (0 with `timezone`)."""
    wanted = _wanted(template_ids)
    rows = [(key, bucket) for key, bucket in buckets.items() if not wanted or key[1] in wanted]
    entries = [
        {'date': label, 'amount': len({user_id for _, _, user_id in _active_in(rows, from_, to)})}
        for from_, to, label in dau_days(now, tz_offset, timezone)
    ]
    return {'entries': entries, 'tz_hour_offset': tz_offset}


# --- §5 user status -----------------------------------------------------------------------------------------


class StatusChange(NamedTuple):
    user_id: str
    status: str
    at: datetime


class StatusHistory(NamedTuple):
    changes: list[StatusChange]
    deletions: dict[str, datetime]


class _StatusBook:
    def __init__(self, dormant_after: timedelta) -> None:
        self.dormant_after = dormant_after
        self.status: dict[str, str] = {}
        self.last_event_at: dict[str, datetime] = {}
        self.changes: list[StatusChange] = []
        self.deletions: dict[str, datetime] = {}

    def set_status(self, user_id: str, status: str, at: datetime) -> None:
        """A change row only when the status differs, as Coder's trigger (`OLD.status IS DISTINCT FROM NEW`)."""
        if self.status.get(user_id) != status:
            self.status[user_id] = status
            self.changes.append(StatusChange(user_id, status, at))

    def apply(self, event: dict[str, Any], at: datetime) -> None:
        user_id = user_id_of(event)
        if user_id in self.deletions:
            return
        name = event.get('event_name')
        if name in STATUS_EVENTS:
            self.set_status(user_id, properties_of(event).get('status') or 'active', at)
        elif user_id not in self.status:  # §1: a user seen without user.created is created active at its first event
            self.set_status(user_id, 'active', at)
        elif name not in USER_EVENTS and self.status[user_id] == 'dormant':  # §5: any later event reactivates
            self.set_status(user_id, 'active', at)
        if name == 'user.deleted':
            self.deletions[user_id] = at
        self.last_event_at[user_id] = at

    def run_dormancy_job(self, at: datetime) -> None:
        """§5: active users whose latest event is more than the period old become dormant at the job's moment."""
        for user_id, status in list(self.status.items()):
            if (
                status == 'active'
                and user_id not in self.deletions
                and self.last_event_at[user_id] < at - self.dormant_after
            ):
                self.set_status(user_id, 'dormant', at)


def status_history(
    events: Iterable[dict[str, Any]], dormancy_runs: Iterable[datetime] = (), dormant_after: timedelta = DORMANT_AFTER
) -> StatusHistory:
    """Status changes and deletions from `user.*` events, first sightings, dormancy job runs and reactivations.

    Events are taken in timestamp order (a tie: sending order); a job run sees every event at or before it."""
    timeline = sorted(
        (
            (moment_of(event['timestamp']), index, event)
            for index, event in enumerate(unique_events(events))
            if user_id_of(event)
        ),
        key=lambda item: item[:2],
    )
    runs = sorted(run.astimezone(UTC) for run in dormancy_runs)
    book = _StatusBook(dormant_after)
    for at, _, event in timeline:
        while runs and runs[0] < at:
            book.run_dormancy_job(runs.pop(0))
        book.apply(event, at)
    for run in runs:
        book.run_dormancy_job(run)
    return StatusHistory(book.changes, book.deletions)


def status_points(
    now: datetime, tz_offset: int = 0, timezone: str | None = None, interval: int = 86400
) -> list[datetime]:
    """§5: from the midnight 60 days before the day of the next full hour, every `interval` seconds up to that hour.

    `tz_offset`: midnights in FixedZone(tz_offset hours), as Coder's server. `timezone`: local midnights, stepping the
    wall clock (DST days are 23 or 25 hours long)."""
    end = next_full_hour(now)
    step = timedelta(seconds=interval if interval > 0 else 86400)
    if timezone is None:
        zone = fixed_offset(timedelta(hours=tz_offset))
        point = datetime.combine(end.astimezone(zone).date(), time(), tzinfo=zone).astimezone(UTC) - 60 * DAY
        points = []
        while point <= end:
            points.append(point)
            point += step
        return points
    local_zone = ZoneInfo(timezone)
    local_end = end.astimezone(local_zone).replace(tzinfo=None)
    wall = datetime.combine(local_end.date() - timedelta(days=60), time())
    points = []
    while wall <= local_end:
        points.append(wall.replace(tzinfo=local_zone).astimezone(UTC))
        wall += step
    return points


def _relevant_changes(
    changes: list[StatusChange], deletions: dict[str, datetime], start: datetime, end: datetime
) -> list[StatusChange]:
    """Coder's GetUserStatusCounts: changes before the window of users not deleted before it, and changes in
    [start, end] not after the user's deletion."""
    relevant = []
    for change in changes:
        deleted_at = deletions.get(change.user_id)
        if change.at < start:
            keep = deleted_at is None or deleted_at >= start
        else:
            keep = change.at <= end and (deleted_at is None or deleted_at >= change.at)
        if keep:
            relevant.append(change)
    return relevant


def _status_at(changes: list[StatusChange], deletions: dict[str, datetime], point: datetime) -> Counter[str]:
    """Each user under its latest change at or before the point, unless deleted at or before it."""
    latest: dict[str, StatusChange] = {}
    for change in changes:
        if change.at <= point and (change.user_id not in latest or change.at >= latest[change.user_id].at):
            latest[change.user_id] = change
    return Counter(
        change.status for user_id, change in latest.items() if user_id not in deletions or point < deletions[user_id]
    )


def utc_text(moment: datetime) -> str:
    return go_time(moment.astimezone(UTC))


def user_status_counts(
    changes: list[StatusChange],
    deletions: dict[str, datetime],
    now: datetime,
    tz_offset: int = 0,
    timezone: str | None = None,
    interval: int = 86400,
) -> dict[str, Any]:
    """The body of `GET /api/v2/insights/user-status-counts`: every status that occurs in the relevant changes
    (up to the next full hour, even after the last point) gets a count at every point, keys sorted."""
    points = status_points(now, tz_offset, timezone, interval)
    relevant = _relevant_changes(changes, deletions, points[0], next_full_hour(now))
    statuses = sorted({change.status for change in relevant})
    counts = [(point, _status_at(relevant, deletions, point)) for point in points]
    return {
        'status_counts': {
            status: [{'date': utc_text(point), 'count': counted[status]} for point, counted in counts]
            for status in statuses
        }
    }
