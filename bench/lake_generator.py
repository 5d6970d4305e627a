"""A local Parquet lake of realistic generated events, for the query benchmarks (`bench_cube_lake.py`).

Layout and schema are those of the stream writer: `<root>/events/project_id=<p>/dt=<YYYY-MM-DD>/*.parquet`,
columns `serverless_analytics.lake.schema.FILE_SCHEMA` (project_id and dt only in the path), snappy, one file
per project and day, rows in time order.

The data has the shape the Cube model needs: users with a skewed number of sessions (a quarter of the sessions
anonymous), sessions of several events (geometric, mean 6) spaced by exponential gaps, so `Sessions` measures
are meaningful; traffic growing over the year with a daily cycle; Zipf-like page popularity over a few hundred
paths (hosts, URLs with query strings, titles); weighted categories and names; browser / OS / device families
and versions with matching user agents; locales, apps, IPs and a JSON `properties` string per event.

Everything is vectorised with pyarrow compute (no per-row Python): the session structure and every event's
timestamp and pool indices are drawn for the whole lake at once, then each day's rows are sliced out and their
strings materialised with `take` from small pools. Deterministic for a given seed, count and end time.

The lake is cached: `ensure_lake(root, events)` regenerates it only when the marker file (generator version
and event count) is missing or differs, into a staging directory renamed into place, under a lock file (the
checkout is shared, two benchmark runs must not write the same lake). The generation time is kept in the marker as `now`, so relative date
ranges can be resolved against the day the lake ends.
"""

import fcntl
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from serverless_analytics.lake.schema import FILE_SCHEMA, STRINGS
from serverless_analytics.logic.user_sessions import user_session_pairs, user_sessions_key

# The lake the benchmarks share: BENCH_LAKE_EVENTS events (default ten million), cached per size.
CONFIGURED_EVENTS = int(os.environ.get('BENCH_LAKE_EVENTS', '10_000_000').replace('_', ''))
CONFIGURED_LAKE_DIR = (
    Path(__file__).resolve().parent.parent / '.local-data' / 'bench-lake' / f'{CONFIGURED_EVENTS}-events'
)

VERSION = 4  # 4: with the user-session index the usage rollup keeps
MARKER = 'bench-lake.json'
DAYS = 365
DAY_MS = 86_400_000
MAIN_PROJECT = '1'
OTHER_PROJECT = '2'
EVENTS_PER_SESSION = 6.0
ANONYMOUS_SESSIONS = 0.25


@dataclass(frozen=True)
class Lake:
    root: Path
    now: datetime
    partitions: dict[str, list[str]]  # project id -> its dt values


# ----------------------------------------------------------------------------------------------- pools


def _weighted(pairs: list[tuple[object, int]]) -> list[object]:
    """A lookup table where each value fills as many slots as its weight: `take(table, floor(u * len))`."""
    return [value for value, weight in pairs for _ in range(weight)]


CATEGORY_NAMES = _weighted(
    [
        (('page_view', 'page_view'), 45),
        (('user_action', 'button_click'), 8),
        (('user_action', 'link_click'), 7),
        (('user_action', 'search'), 5),
        (('feature', 'feature_used'), 6),
        (('feature', 'export'), 4),
        (('performance', 'api_latency'), 5),
        (('performance', 'page_load'), 3),
        (('auth', 'login'), 3),
        (('auth', 'logout'), 2),
        (('trading', 'order_placed'), 3),
        (('trading', 'checkout'), 2),
        (('error', 'js_error'), 3),
        (('error', 'api_error'), 1),
        (('system', 'heartbeat'), 3),
    ]
)
PRIORITIES = _weighted([('low', 6), ('medium', 3), ('high', 1)])
HOURLY_TRAFFIC = [1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
HOURS = _weighted([(hour, weight) for hour, weight in enumerate(HOURLY_TRAFFIC)])
LOCALES = _weighted([('en-US', 10), ('en-GB', 3), ('de-DE', 3), ('fr-FR', 2), ('ja-JP', 2), ('pt-BR', 1)])
VIEWPORTS = _weighted([('1920x1080', 5), ('1536x864', 3), ('1440x900', 2), ('390x844', 3), ('412x915', 2)])
APPS = _weighted([(('web', '4.2.1'), 6), (('web', '4.3.0'), 3), (('ios', '2.8.0'), 1), (('android', '2.7.5'), 1)])
TENANTS = _weighted([('acme', 5), ('globex', 3), ('initech', 2)])
REFERRERS = _weighted(
    [(None, 5), ('https://www.google.com/', 3), ('https://app.example.com/dashboard', 2), ('https://t.co/x', 1)]
)
URL_SUFFIXES = _weighted([('', 6), ('?ref=nav', 2), ('?utm_source=newsletter', 1), ('?tab=overview', 1)])
ELEMENTS = ['btn-save', 'btn-cancel', 'nav-home', 'nav-docs', 'search-box', 'menu-user', 'link-pricing', 'tab-2']
GROUPS = [['beta'], ['staff'], ['free'], ['free', 'beta'], ['enterprise']]
ROLES = [['viewer'], ['viewer', 'editor'], ['admin']]


def _agents() -> list[tuple]:
    """(browser family, version, os family, os version, device family, user agent, is bot, weight)."""
    rows = []
    desktop = [('Windows', '10', 'Windows NT 10.0; Win64; x64'), ('Mac OS X', '10.15.7', 'Macintosh; Intel Mac OS X')]
    for version, weight in (('131.0.0', 9), ('130.0.0', 5), ('129.0.0', 2)):
        for os_family, os_version, platform in desktop:
            ua = f'Mozilla/5.0 ({platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version} Safari/537.36'
            rows.append(('Chrome', version, os_family, os_version, 'Other', ua, False, weight))
    for version, weight in (('17.5', 4), ('17.4', 2)):
        ua = f'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/{version} Safari/605.1.15'
        rows.append(('Safari', version, 'Mac OS X', '10.15.7', 'Other', ua, False, weight))
        ua = f'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/{version} Mobile Safari/604.1'
        rows.append(('Mobile Safari', version, 'iOS', '17.5', 'iPhone', ua, False, weight * 2))
    for version, weight in (('133.0', 3), ('132.0', 1)):
        ua = f'Mozilla/5.0 (X11; Linux x86_64; rv:{version}) Gecko/20100101 Firefox/{version}'
        rows.append(('Firefox', version, 'Linux', None, 'Other', ua, False, weight))
    ua = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0.0 Mobile Safari/537.36'
    rows.append(('Chrome Mobile', '131.0.0', 'Android', '14', 'Pixel 8', ua, False, 5))
    ua = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
    rows.append(('Googlebot', '2.1', 'Other', None, 'Spider', ua, True, 1))
    return rows


def _pages() -> list[tuple[str, str, str]]:
    """(host, path, title), most popular first (popularity is drawn with a power law over the index)."""
    pages = [('app.example.com', '/', 'Home'), ('app.example.com', '/dashboard', 'Dashboard')]
    pages += [('app.example.com', '/pricing', 'Pricing'), ('app.example.com', '/search', 'Search')]
    for i in range(60):
        pages.append(('docs.example.com', f'/docs/topic-{i}', f'Documentation: topic {i}'))
    for i in range(80):
        pages.append(('app.example.com', f'/projects/{i}/issues', f'Issues · Project {i}'))
        pages.append(('app.example.com', f'/projects/{i}/merge_requests', f'Merge requests · Project {i}'))
    for i in range(100):
        pages.append(('blog.example.com', f'/blog/post-{i}', f'Blog: post {i}'))
    return pages


AGENTS = _agents()
AGENT_SLOTS = _weighted([(i, agent[-1]) for i, agent in enumerate(AGENTS)])
PAGES = _pages()


# --------------------------------------------------------------------------------------- random draws


class Draws:
    """Independent, seeded uniform streams from pyarrow's `random` (one fresh seed per draw)."""

    def __init__(self, seed: int):
        self._seed = seed

    def uniform(self, n: int) -> pa.Array:
        self._seed += 1
        return pc.random(n, initializer=self._seed)

    def index(self, n: int, size: int, skew: float = 1.0) -> pa.Array:
        """Integers in [0, size), `skew` > 1 favouring small ones (u ** skew)."""
        u = self.uniform(n)
        if skew != 1.0:
            u = pc.power(u, skew)
        return pc.cast(pc.min_element_wise(pc.floor(pc.multiply(u, size)), size - 1), pa.int32())

    def exponential(self, n: int, mean: float) -> pa.Array:
        return pc.multiply(pc.negate(pc.ln(pc.subtract(1.0, self.uniform(n)))), mean)

    def chance(self, n: int, probability: float) -> pa.Array:
        return pc.less(self.uniform(n), probability)


def _int(values: pa.Array) -> pa.Array:
    return pc.cast(pc.floor(values), pa.int64())


def _mod(values: pa.Array, divisor: int) -> pa.Array:
    return pc.subtract(values, pc.multiply(pc.divide(values, divisor), divisor))  # integer division


def _pool(values: list, index: pa.Array, type_: pa.DataType | None = None) -> pa.Array:
    return pa.array(values, type=type_).take(index)


_HEX4 = pa.array([f'{i:04x}' for i in range(65_536)])


def _uuids(draws: Draws, n: int) -> pa.Array:
    """Version-4-looking UUID strings (8-4-4-4-12 hex digits) from eight 16-bit draws."""
    parts = [_HEX4.take(draws.index(n, 65_536)) for _ in range(8)]
    groups = [
        pc.binary_join_element_wise(parts[0], parts[1], ''),
        parts[2],
        pc.binary_join_element_wise('4', pc.utf8_slice_codeunits(parts[3], 1), ''),
        parts[4],
        pc.binary_join_element_wise(parts[5], parts[6], parts[7], ''),
    ]
    return pc.binary_join_element_wise(*groups, '-')


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, '')


# --------------------------------------------------------------------------------- sessions and events


def _sessions(draws: Draws, events: int, users: int, start_ms: int, end_ms: int) -> pa.Table:
    """One row per session (start, size, user, agent...), truncated so the sizes add up to exactly `events`."""
    n = int(events / EVENTS_PER_SESSION * 1.3) + 10
    growth = pc.subtract(pc.sqrt(pc.add(pc.multiply(draws.uniform(n), 2.0), 0.25)), 0.5)  # density 0.5 + x
    day = pc.min_element_wise(pc.floor(pc.multiply(growth, DAYS)), DAYS - 1)
    hour = _pool(HOURS, draws.index(n, len(HOURS)), pa.float64())
    offset = pc.add(pc.multiply(day, float(DAY_MS)), pc.multiply(pc.add(hour, draws.uniform(n)), 3_600_000.0))
    start = pc.add(_int(offset), start_ms)
    start = start.filter(pc.less(start, end_ms))  # today's sessions only up to now
    n = len(start)
    size = pc.min_element_wise(pc.add(_int(draws.exponential(n, EVENTS_PER_SESSION - 0.5)), 1), 200)
    end = pc.cumulative_sum(size)
    keep = pc.sum(pc.less(pc.subtract(end, size), events)).as_py()
    last = events - (end[keep - 2].as_py() if keep > 1 else 0)
    size = pa.concat_arrays([size.slice(0, keep - 1), pa.array([last], pa.int64())])
    user = draws.index(keep, users, skew=2.0)  # a few heavy users, a long tail of occasional ones
    return pa.table(
        {
            'size': size,
            'start': start.slice(0, keep),
            'user': pc.if_else(draws.chance(keep, ANONYMOUS_SESSIONS), pa.scalar(None, pa.int32()), user),
            'agent': _pool(AGENT_SLOTS, draws.index(keep, len(AGENT_SLOTS)), pa.int32()),
            'locale': draws.index(keep, len(LOCALES)),
            'viewport': draws.index(keep, len(VIEWPORTS)),
            'app': draws.index(keep, len(APPS)),
            'tenant': draws.index(keep, len(TENANTS)),
            'ip': draws.index(keep, 1 << 24),
            'offline': draws.chance(keep, 0.01),
        }
    )


def _events(draws: Draws, sessions: pa.Table, end_ms: int) -> pa.Table:
    """One row per event (session index, epoch-ms timestamp, pool indices), sorted by timestamp."""
    size = sessions['size'].combine_chunks()
    offsets = pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(size)])
    n = offsets[-1].as_py()
    session = pc.list_parent_indices(pa.LargeListArray.from_arrays(offsets, pa.nulls(n)))
    firsts = offsets.slice(0, len(size))
    gap = _int(draws.exponential(n, 45_000.0))
    first = pa.concat_arrays([pa.array([True]), pc.not_equal(session.slice(1), session.slice(0, n - 1))])
    gap = pc.if_else(first, 0, gap)
    elapsed = pc.cumulative_sum(gap)
    within = pc.subtract(elapsed, elapsed.take(firsts).take(session))
    timestamp = pc.add(sessions['start'].combine_chunks().take(session), within)
    last = pc.subtract(offsets.slice(1), 1)  # sessions that would run past now are moved back
    overflow = pc.max_element_wise(pc.subtract(timestamp.take(last), end_ms - 1), 0)
    timestamp = pc.subtract(timestamp, overflow.take(session))
    table = pa.table(
        {
            'session': session,
            'timestamp': timestamp,
            'kind': draws.index(n, len(CATEGORY_NAMES)),
            'priority': draws.index(n, len(PRIORITIES)),
            'page': draws.index(n, len(PAGES), skew=3.0),
            'suffix': draws.index(n, len(URL_SUFFIXES)),
            'referrer': draws.index(n, len(REFERRERS)),
            'element': draws.index(n, len(ELEMENTS)),
            'latency': pc.add(_int(draws.exponential(n, 180.0)), 20),
            'delay': pc.add(_int(draws.exponential(n, 400.0)), 5),
        }
    )
    return table.take(pc.sort_indices(timestamp))


def _rows(draws: Draws, events: pa.Table, sessions: pa.Table, session_ids: pa.Array) -> pa.Table:
    """The FILE_SCHEMA table of some events (a slice of `_events`): strings taken from the pools."""
    n = len(events)
    s = sessions.take(events['session'])
    agent, page, app, user = s['agent'], events['page'], s['app'], s['user']
    user_str = pc.cast(user, pa.string())
    host = _pool([p[0] for p in PAGES], page)
    path = _pool([p[1] for p in PAGES], page)
    columns = {
        'event_id': _uuids(draws, n),
        'name': _pool([c[1] for c in CATEGORY_NAMES], events['kind']),
        'category': _pool([c[0] for c in CATEGORY_NAMES], events['kind']),
        'priority': _pool(PRIORITIES, events['priority']),
        'timestamp': _ms(events['timestamp']),
        'received_at': _ms(pc.add(events['timestamp'], events['delay'])),
        'sent_at': _ms(pc.add(events['timestamp'], pc.divide(events['delay'], 2))),
        'timestamp_clamped': pa.repeat(False, n),
        'session_id': session_ids.take(events['session']),
        'user_id': _join('user_', user_str),
        'user_realm': pc.if_else(pc.is_valid(user), pa.scalar(['customers'], STRINGS), pa.scalar(None, STRINGS)),
        'user_groups': _pool(GROUPS, _mod(user, len(GROUPS)), STRINGS),
        'user_roles': _pool(ROLES, _mod(user, len(ROLES)), STRINGS),
        'username': _join('member-', user_str),
        'avatar_url': pa.nulls(n, pa.string()),
        'page_url': _join('https://', host, path, _pool(URL_SUFFIXES, events['suffix'])),
        'page_host': host,
        'page_path': path,
        'page_title': _pool([p[2] for p in PAGES], page),
        'referrer': _pool(REFERRERS, events['referrer'], pa.string()),
        'user_agent': _pool([a[5] for a in AGENTS], agent),
        'browser_family': _pool([a[0] for a in AGENTS], agent),
        'browser_version': _pool([a[1] for a in AGENTS], agent),
        'os_family': _pool([a[2] for a in AGENTS], agent),
        'os_version': _pool([a[3] for a in AGENTS], agent, pa.string()),
        'device_family': _pool([a[4] for a in AGENTS], agent),
        'is_bot': _pool([a[6] for a in AGENTS], agent),
        'user_ip': _ip(s['ip']),
        'app_name': _pool([a[0] for a in APPS], app),
        'app_version': _pool([a[1] for a in APPS], app),
        'tenant_id': _pool(TENANTS, s['tenant']),
        'content_locale': _pool(LOCALES, s['locale']),
        'ui_locale': _pool(LOCALES, s['locale']),
        'offline': s['offline'],
        'template_id': pa.nulls(n, pa.string()),
        'client_id': pa.repeat('web-sdk-1.4.2', n),
        'properties': _properties(events, s),
    }
    return pa.table(columns).cast(FILE_SCHEMA)


def _ms(epoch_ms: pa.Array) -> pa.Array:
    return pc.cast(epoch_ms, pa.int64()).cast(pa.timestamp('ms', tz='UTC'))


def _ip(number: pa.ChunkedArray) -> pa.Array:
    number = pc.cast(number, pa.int64())
    octets = [pc.cast(pc.bit_wise_and(pc.shift_right(number, k), 255), pa.string()) for k in (16, 8, 0)]
    return _join('10.', octets[0], '.', octets[1], '.', octets[2])


def _properties(events: pa.Table, sessions: pa.Table) -> pa.Array:
    """The tracker's free-form JSON: viewport (per session), clicked element and latency (per event)."""
    return _join(
        '{"viewport_size":"',
        _pool(VIEWPORTS, sessions['viewport']),
        '","element_id":"',
        _pool(ELEMENTS, events['element']),
        '","latency_ms":',
        pc.cast(events['latency'], pa.string()),
        '}',
    )


# ------------------------------------------------------------------------------------------- writing


def _write_project(directory: Path, project: str, events: int, users: int, seed: int, now: datetime) -> None:
    """Writes one project's events, one file per day (days in parallel: pyarrow releases the GIL)."""
    draws = Draws(seed)
    end_ms = int(now.timestamp() * 1000)
    first_day = datetime.combine(now.date() - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
    start_ms = int(first_day.timestamp() * 1000)
    sessions = _sessions(draws, events, users, start_ms, end_ms)
    session_ids = _uuids(draws, len(sessions))
    table = _events(draws, sessions, end_ms)
    day = pc.divide(pc.subtract(table['timestamp'], start_ms), DAY_MS)  # integer division
    counts = pc.value_counts(day).to_pylist()  # in order of first appearance, i.e. by day (rows are sorted)
    starts = [0]
    for item in counts[:-1]:
        starts.append(starts[-1] + item['counts'])

    def write_day(item: dict, offset: int) -> None:
        dt = (first_day + timedelta(days=item['values'])).date().isoformat()
        day_draws = Draws(seed + 1_000_000 + 100 * item['values'])  # deterministic whatever the thread order
        rows = _rows(day_draws, table.slice(offset, item['counts']), sessions, session_ids)
        partition = directory / 'events' / f'project_id={project}' / f'dt={dt}'
        partition.mkdir(parents=True)
        pq.write_table(rows, partition / 'part-00000.parquet', compression='snappy')
        start = first_day + timedelta(days=item['values'])
        index = directory / user_sessions_key('usage', project, start.date())
        index.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(user_session_pairs(rows, start, start + timedelta(days=1)), index, compression='zstd')

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(write_day, counts, starts))


def _generate(root: Path, events: int, seed: int = 20_240_515) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    staging = Path(tempfile.mkdtemp(prefix=f'{root.name}.', suffix='.tmp', dir=root.parent))
    try:
        _write_project(staging, MAIN_PROJECT, events, max(events // 50, 100), seed, now)
        other = max(events // 100, 1_000)  # a small tenant, so the project predicate has something to exclude
        _write_project(staging, OTHER_PROJECT, other, max(other // 50, 10), seed + 1_000, now)
        marker = {'version': VERSION, 'events': events, 'now': now.isoformat()}
        (staging / MARKER).write_text(json.dumps(marker))
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None


def ensure_lake(root: Path, events: int) -> tuple[Lake, float | None]:
    """The cached lake of `events` events under `root` (generated if missing or stale) and the seconds spent
    generating it (None when the cache was used). A lock file serialises concurrent runs (a shared checkout)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    spent = None
    with (root.parent / f'{root.name}.lock').open('w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = _marker(root)
        if not marker or marker.get('version') != VERSION or marker.get('events') != events:
            started = time.perf_counter()
            _generate(root, events)
            spent = time.perf_counter() - started
            marker = _marker(root)
    projects = sorted((root / 'events').glob('project_id=*'))
    partitions = {p.name.split('=', 1)[1]: sorted(d.name.split('=', 1)[1] for d in p.glob('dt=*')) for p in projects}
    return Lake(root, datetime.fromisoformat(marker['now']), partitions), spent
