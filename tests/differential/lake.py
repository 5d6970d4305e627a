"""Seeded synthetic events, written as Parquet in the lake's Hive layout (`events/project_id=<p>/dt=<d>/`)."""

import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.user_sessions import user_session_pairs, user_sessions_key

NOW = datetime(2024, 5, 15, 13, 3, 7, 250000, tzinfo=UTC)
START = datetime(2024, 3, 25, tzinfo=UTC)
END = datetime(2024, 5, 22, tzinfo=UTC)
PROJECTS = ('7', '8')
CATEGORIES = ('page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature', 'system')
NAMES = ('page_view', 'link_click', 'Sign In', 'sign_out', 'order_placed', 'search', 'ERROR', None)
PATHS = ('/', '/docs', '/docs/install', '/Docs/API', '/pricing', '/a_b', '/100%', "/it's", '/back\\slash', None)
TITLES = ('Home', 'Docs', 'Install Guide', 'API reference', 'Pricing', 'home page', None)
BROWSERS = ('Chrome', 'Firefox', 'Safari', 'Edge', None)
OSES = ('Mac OS X', 'Windows', 'Linux', 'iOS', None)
VIEWPORTS = ('1280x720', '1920x1080', '375x812')

# The lake layout is fixed by the writer; the compiler, not the schema, is what these tests check.
SCHEMA = FILE_SCHEMA


def generate_events(seed: int, sessions_per_project: int = 450) -> list[dict]:
    """Events grouped in sessions (1–12 events within 40 minutes), some anonymous, over ~2 months."""
    rng = random.Random(seed)
    events = []
    span = int((END - START).total_seconds())
    for project in PROJECTS:
        users = [f'user-{project}-{i}' for i in range(25)]
        for number in range(sessions_per_project):
            session = f'session-{project}-{number}' if rng.random() > 0.03 else None
            user = rng.choice(users) if rng.random() > 0.2 else None
            browser, os_family = rng.choice(BROWSERS), rng.choice(OSES)
            start = START + timedelta(seconds=rng.randrange(span), milliseconds=rng.randrange(1000))
            for _ in range(rng.randint(1, 12)):
                stamp = start + timedelta(milliseconds=rng.randrange(40 * 60 * 1000))
                events.append(_event(rng, project, session, user, browser, os_family, stamp, len(events)))
    return events


def _event(rng, project, session, user, browser, os_family, stamp, index) -> dict:
    path = rng.choice(PATHS)
    props = {'viewport_size': rng.choice(VIEWPORTS), 'latency_ms': rng.randrange(5, 900)}
    if rng.random() < 0.1:
        props = {}
    return {
        'project_id': project,
        'event_id': f'evt-{index:06d}',
        'name': rng.choice(NAMES),
        'category': rng.choice(CATEGORIES),
        'priority': rng.choice(('low', 'normal', 'high')),
        'timestamp': stamp.replace(microsecond=stamp.microsecond // 1000 * 1000),
        'session_id': session,
        'user_id': user,
        'page_path': path,
        'page_host': 'example.com' if path else None,
        'page_url': f'https://example.com{path}' if path else None,
        'page_title': rng.choice(TITLES),
        'browser_family': browser,
        'os_family': os_family,
        'is_bot': rng.random() < 0.05,
        'properties': json.dumps(props),
    }


def write_lake(root: Path, events: list[dict], user_sessions: bool = True) -> None:
    """One Parquet file per (project, UTC day); partition columns live only in the path. With `user_sessions`, each
    day's user-session index file too, as the usage rollup writes it."""
    groups = defaultdict(list)
    for event in events:
        groups[(event['project_id'], event['timestamp'].strftime('%Y-%m-%d'))].append(event)
    for (project, day), rows in groups.items():
        folder = root / 'events' / f'project_id={project}' / f'dt={day}'
        folder.mkdir(parents=True, exist_ok=True)
        columns = {name: [row.get(name) for row in rows] for name in SCHEMA.names}
        table = pa.table(columns, schema=SCHEMA)
        pq.write_table(table, folder / 'part-0000.parquet')
        if user_sessions:
            write_user_sessions(root, project, date.fromisoformat(day), table)


def write_user_sessions(root: Path, project: str, day: date, events: pa.Table) -> None:
    start = datetime.combine(day, time(), tzinfo=UTC)
    path = root / user_sessions_key('usage', project, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(user_session_pairs(events, start, start + timedelta(days=1)), path)
