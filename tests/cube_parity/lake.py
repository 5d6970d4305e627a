"""A small seeded lake in the product's layout (`events/project_id=<p>/dt=<day>/part-0000.parquet`) for the Cube parity
test: ~3,800 events of project 1 (the one both sides query) and a few hundred of project 2 (which Cube never sees and
the product must never read), over ~120 days, with events placed on DST changes and on month, quarter and year
boundaries in the test's time zones."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.differential.lake import write_lake

SEED = 20240408
PROJECT = '1'
OTHER_PROJECT = '2'
# The main window: 2023-12-10 .. 2024-04-09 (a year, a quarter and four month boundaries; the US and EU spring DST
# changes on 2024-03-10 and 2024-03-31).
START = datetime(2023, 12, 10, tzinfo=UTC)
END = datetime(2024, 4, 10, tzinfo=UTC)
# A few sessions before it: the autumn DST changes (EU 2023-10-29 01:00Z, US 2023-11-05 09:00Z) and the Q3/Q4 boundary.
EARLY_CLUSTERS = (
    datetime(2023, 9, 30, 21, 0, tzinfo=UTC),
    datetime(2023, 10, 29, 0, 20, tzinfo=UTC),
    datetime(2023, 11, 5, 8, 30, tzinfo=UTC),
)
# Single events on boundaries (UTC instants): each is a boundary in at least one of the test's time zones
# (UTC, Europe/Berlin +1/+2, America/Los_Angeles -8/-7, Asia/Kolkata +5:30).
BOUNDARY_INSTANTS = (
    datetime(2023, 10, 29, 0, 59, 59, 999000, tzinfo=UTC),  # Berlin 02:59:59 CEST, the last summer second
    datetime(2023, 10, 29, 1, 30, tzinfo=UTC),  # Berlin 02:30 CET, the repeated hour
    datetime(2023, 11, 5, 9, 30, tzinfo=UTC),  # Los Angeles 01:30 PST, the repeated hour
    datetime(2023, 12, 31, 18, 29, tzinfo=UTC),  # Kolkata 23:59 Dec 31
    datetime(2023, 12, 31, 18, 31, tzinfo=UTC),  # Kolkata 00:01 Jan 1
    datetime(2023, 12, 31, 23, 0, tzinfo=UTC),  # Berlin 00:00 Jan 1
    datetime(2023, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 1, 1, 7, 59, tzinfo=UTC),  # Los Angeles 23:59 Dec 31
    datetime(2024, 1, 1, 8, 0, tzinfo=UTC),  # Los Angeles 00:00 Jan 1
    datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0, tzinfo=UTC),  # leap day
    datetime(2024, 2, 29, 23, 30, tzinfo=UTC),  # Berlin 00:30 Mar 1
    datetime(2024, 3, 10, 9, 59, tzinfo=UTC),  # Los Angeles 01:59 PST, the last winter minute
    datetime(2024, 3, 10, 10, 0, tzinfo=UTC),  # Los Angeles 03:00 PDT
    datetime(2024, 3, 10, 10, 30, tzinfo=UTC),
    datetime(2024, 3, 30, 23, 30, tzinfo=UTC),  # Berlin 00:30 Mar 31 (a 23-hour day)
    datetime(2024, 3, 31, 0, 59, tzinfo=UTC),  # Berlin 01:59 CET
    datetime(2024, 3, 31, 1, 0, tzinfo=UTC),  # Berlin 03:00 CEST
    datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
    datetime(2024, 3, 31, 18, 29, tzinfo=UTC),  # Kolkata 23:59 Mar 31 (end of Q1)
    datetime(2024, 3, 31, 18, 30, tzinfo=UTC),  # Kolkata 00:00 Apr 1
    datetime(2024, 3, 31, 21, 59, tzinfo=UTC),  # Berlin 23:59 Mar 31
    datetime(2024, 3, 31, 22, 0, tzinfo=UTC),  # Berlin 00:00 Apr 1
    datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2024, 4, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 4, 1, 6, 59, tzinfo=UTC),  # Los Angeles 23:59 Mar 31
    datetime(2024, 4, 1, 7, 0, tzinfo=UTC),  # Los Angeles 00:00 Apr 1
)

NAMES = ('page_view', 'page_view', 'page_view', 'link_click', 'link_click', 'signup', 'purchase', 'search', 'Sign In')
CATEGORIES = ('user_action', 'feature', 'trading', 'auth', 'error', 'performance', 'system')
PRIORITIES = ('low', 'medium', 'high', 'critical')
HOSTS = ('example.com', 'docs.example.com')
PATHS = ('/', '/docs', '/docs/install', '/Docs/API', '/pricing', '/a_b', '/100%', "/it's", '/back\\slash', '/blog/2024')
TITLES = ('Home', 'Docs', 'Install Guide', 'API reference', 'Pricing', 'home page', None)
REFERRERS = ('https://www.google.com/', 'https://news.ycombinator.com/', None, None)
BROWSERS = (('Chrome', '120.0.6099'), ('Firefox', '121.0'), ('Safari', '17.2.1'), ('Edge', '120.0.2210'), (None, None))
OSES = (('Mac OS X', '10.15.7'), ('Windows', '10'), ('Linux', None), ('iOS', '17.2'), ('Android', '14'), (None, None))
DEVICES = ('Desktop', 'Mobile', 'Tablet', None)
LOCALES = ('en-US', 'en-GB', 'de-DE', 'fr', 'ja-JP', 'pt_BR', None)
APPS = (('web', '1.4.0'), ('web', '1.5.0'), ('ios', '2.0.1'), (None, None))
TENANTS = ('acme', 'globex', None)
VIEWPORTS = ('1280x720', '1920x1080', '375x812')
ELEMENTS = ('signup-button', 'nav-docs', 'footer_link', None)


def generate_events(seed: int = SEED) -> list[dict]:
    """Sessions of 1–12 events within 50 minutes (some crossing midnight), users returning over weeks."""
    rng = random.Random(seed)
    events: list[dict] = []
    span = int((END - START).total_seconds())
    for project, sessions, user_count in ((PROJECT, 520, 45), (OTHER_PROJECT, 60, 8)):
        users = [f'user-{project}-{i:02d}' for i in range(user_count)]
        starts = [START + timedelta(seconds=rng.randrange(span)) for _ in range(sessions)]
        starts += [cluster + timedelta(minutes=rng.randrange(90)) for cluster in EARLY_CLUSTERS for _ in range(3)]
        for number, start in enumerate(starts):
            session = _session(rng, project, number, users)
            for _ in range(rng.randint(1, 12)):
                stamp = start + timedelta(milliseconds=rng.randrange(50 * 60 * 1000))
                events.append(_event(rng, project, session, stamp, len(events)))
        for instant in BOUNDARY_INSTANTS:
            session = _session(rng, project, len(starts) + len(events), users)
            events.append(_event(rng, project, session, instant, len(events)))
    return events


def _session(rng: random.Random, project: str, number: int, users: list[str]) -> dict:
    browser, browser_version = rng.choice(BROWSERS)
    os_family, os_version = rng.choice(OSES)
    app_name, app_version = rng.choice(APPS)
    return {
        'session_id': f'session-{project}-{number:04d}' if rng.random() > 0.03 else None,
        'user_id': rng.choice(users) if rng.random() > 0.2 else None,
        'browser_family': browser,
        'browser_version': browser_version,
        'os_family': os_family,
        'os_version': os_version,
        'device_family': rng.choice(DEVICES),
        'ui_locale': rng.choice(LOCALES),
        'content_locale': rng.choice(LOCALES),
        'app_name': app_name,
        'app_version': app_version,
        'tenant_id': rng.choice(TENANTS),
        'is_bot': None if rng.random() < 0.05 else rng.random() < 0.07,
        'user_agent': f'Mozilla/5.0 ({os_family or "unknown"}) {browser or "Other"}/{browser_version or "0"}',
    }


def _event(rng: random.Random, project: str, session: dict, stamp: datetime, index: int) -> dict:
    name = rng.choice(NAMES) if rng.random() > 0.03 else None
    category = 'page_view' if name == 'page_view' else rng.choice(CATEGORIES)
    host = rng.choice(HOSTS) if rng.random() > 0.05 else None
    path = rng.choice(PATHS) if host else None
    properties: dict = {'viewport_size': rng.choice(VIEWPORTS)}
    if name == 'link_click':
        properties = {'target_url': f'https://example.com{rng.choice(PATHS)}', 'element_id': rng.choice(ELEMENTS)}
    if rng.random() < 0.6:
        properties = {**properties, 'latency_ms': rng.randrange(5, 1500)}
    elif rng.random() < 0.05:
        properties = {**properties, 'latency_ms': 'slow'}  # not a number: TRY_CAST gives NULL
    properties_json = None if rng.random() < 0.08 else json.dumps(properties)
    stamp = stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)
    return {
        **session,
        'project_id': project,
        'event_id': f'evt-{project}-{index:05d}',
        'name': name,
        'category': category,
        'priority': rng.choice(PRIORITIES),
        'timestamp': stamp,
        'received_at': stamp + timedelta(milliseconds=rng.randrange(50, 3000)),
        'sent_at': stamp + timedelta(milliseconds=rng.randrange(0, 40)),
        'timestamp_clamped': False,
        'page_host': host,
        'page_path': path,
        'page_url': f'https://{host}{path}' if host else None,
        'page_title': rng.choice(TITLES) if host else None,
        'referrer': rng.choice(REFERRERS),
        'offline': None if rng.random() < 0.1 else rng.random() < 0.05,
        'properties': properties_json,
    }


def build_lake(root: Path, seed: int = SEED) -> list[dict]:
    """Write the lake under `root`; the events written."""
    events = generate_events(seed)
    write_lake(root, events)
    return events


def cube_table_sql(root: Path, project: str = PROJECT) -> str:
    """The `events` table Cube's model reads: the lake restricted to one project (Cube has no project scope; the
    product adds the project predicate to every read of `events` itself)."""
    escaped = str(root).replace("'", "''")
    return (
        'CREATE VIEW events AS SELECT * FROM '
        f"read_parquet('{escaped}/events/*/*/*.parquet', hive_partitioning = true, "
        "hive_types = {'project_id': 'VARCHAR', 'dt': 'VARCHAR'}) "
        f"WHERE project_id = '{project}'"
    )
