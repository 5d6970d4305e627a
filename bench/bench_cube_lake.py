"""GitLab's built-in dashboard queries through the Cube API on a local lake of 10 million events (DuckDB engine).

What is measured, on a generated lake (`bench/lake_generator.py`: BENCH_LAKE_EVENTS events, default 10,000,000,
over the 365 days ending on the day it was generated, plus a 1 % second project; cached under
`.local-data/bench-lake/<N>-events/`, regenerated only when missing or when the generator version changes):

1. Each GitLab built-in dashboard query of spec §6.5 (and the two seed-document examples), as the dashboard sends
   it: its date filter (`inDateRange` over the last 30 days of the lake), `limit: 100`, `timezone: "UTC"`. The
   full `load(..., query_type='multi')` is timed (compile, DuckDB through `DuckDBEngine(lake_root)`'s
   start/poll path, formatting), with beside it its compile step, the compiled SQL alone (`engine.execute`) and
   `load*`: the same load with the engine awaited directly, without `wait_for`'s doubling poll interval.
   Target: median load() <= 1 s.
2. A hand-written SQL equivalent of each query, straight over the engine's `read_parquet` scan with the same
   project and dt predicates, run with `engine.execute` on the same engine and connection. Printed: compiled
   SQL / hand SQL (target <= 1.2x) and load() / hand SQL (what a caller waits, polling included). Both give the
   same numbers (checked).
   The join case (TrackedEvents many_to_one Sessions, a multiplied average) is Cube's fullKeyQueryAggregate.
3. Partition pruning: the compiled "last 7 days" query is profiled with DuckDB's JSON profiler, which reports the
   files the Parquet scan read; the lake has one file per project and day, so files read = dt partitions read.

Every figure is the median of BENCH_RUNS (default 7) timed runs after one warm-up, the variants of one query
interleaved, because the machine is shared (2 cores, noisy CPU steal).

Run: make bench, or `BENCH_LAKE_EVENTS=1_000_000 PYTHONPATH=. .venv/bin/python bench/bench_cube_lake.py` for a quick look.
"""

import json
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.common import ROOT, RUNS, medians
from bench.lake_generator import CONFIGURED_EVENTS as EVENTS
from bench.lake_generator import CONFIGURED_LAKE_DIR as LAKE_DIR
from bench.lake_generator import MAIN_PROJECT, Lake, ensure_lake
from serverless_analytics.cube import load, plan_load
from serverless_analytics.cube.api import format_load
from serverless_analytics.engines import DuckDBEngine

DASHBOARD_DAYS = 30
TARGET_SECONDS = 1.0
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Case:
    name: str
    query: dict
    hand_sql: str  # a template over {src}, {index}, {p}, {first}, {last}, {before}, {after}, {week0}, {week1}


def _dashboard(measures: list[str], date_member: str, **extra) -> dict:
    """A built-in visualisation query as GitLab's dashboard sends it (spec §6.5), with its date filter."""
    date_filter = {'member': date_member, 'operator': 'inDateRange', 'values': ['{first}', '{last}']}
    query = {'measures': measures, 'dimensions': [], 'timeDimensions': [], 'filters': [date_filter]}
    return {**query, **extra, 'limit': 100, 'timezone': 'UTC'}


EVENTS_RANGE = "project_id = '{p}' AND dt BETWEEN '{first}' AND '{last}' AND timestamp >= TIMESTAMPTZ '{first}' "
EVENTS_RANGE += "AND timestamp < TIMESTAMPTZ '{after}'"
SESSIONS = (
    'WITH s AS (SELECT session_id, min(timestamp) AS start_at, max(timestamp) AS end_at, min(user_id) AS user_id, '
    'min(browser_family) AS agent_name, min(browser_version) AS agent_version FROM {src} '
    "WHERE project_id = '{p}' AND dt BETWEEN '{before}' AND '{after}' AND session_id IS NOT NULL GROUP BY 1) "
)
IN_RANGE = "start_at >= TIMESTAMPTZ '{first}' AND start_at < TIMESTAMPTZ '{after}'"
# Each user's first session over the whole history, from the user-session index (logic/user_sessions.py).
FIRSTS = (
    ', k AS (SELECT session_id, min(user_id) AS user_id, min(first_at) AS start_at FROM {index} '
    'WHERE session_id IS NOT NULL GROUP BY 1), '
    'firsts AS (SELECT user_id, arg_min(session_id, (start_at, session_id)) AS first_session FROM k '
    'WHERE user_id IS NOT NULL GROUP BY 1), '
    'f AS (SELECT s.start_at, s.user_id IS NULL OR s.session_id = firsts.first_session AS is_first '
    'FROM s LEFT JOIN firsts ON s.user_id = firsts.user_id) '
)
DAY = [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day'}]
TRACKED = 'TrackedEvents.derivedTstamp'
CASES = [
    Case(
        'TrackedEvents.uniqueUsersCount by day',
        _dashboard(['TrackedEvents.uniqueUsersCount'], TRACKED, timeDimensions=DAY),
        "SELECT date_trunc('day', timestamp AT TIME ZONE 'UTC'), count(DISTINCT user_id) FROM {src} WHERE "
        + EVENTS_RANGE
        + ' GROUP BY 1 ORDER BY 1 LIMIT 100',
    ),
    Case(
        'TrackedEvents.pageViewsCount by path, url',
        _dashboard(
            ['TrackedEvents.pageViewsCount'], TRACKED, dimensions=['TrackedEvents.pageUrlpath', 'TrackedEvents.pageUrl']
        ),
        "SELECT page_path, page_url, count(*) FILTER (WHERE category = 'page_view') AS n FROM {src} WHERE "
        + EVENTS_RANGE
        + ' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 100',
    ),
    Case(
        'TrackedEvents.count by day',
        _dashboard(['TrackedEvents.count'], TRACKED, timeDimensions=DAY),
        "SELECT date_trunc('day', timestamp AT TIME ZONE 'UTC'), count(*) FROM {src} WHERE "
        + EVENTS_RANGE
        + ' GROUP BY 1 ORDER BY 1 LIMIT 100',
    ),
    Case(
        'Sessions.count by agentName, agentVersion',
        _dashboard(['Sessions.count'], 'Sessions.startAt', dimensions=['Sessions.agentName', 'Sessions.agentVersion']),
        SESSIONS
        + 'SELECT agent_name, agent_version, count(*) FROM s WHERE '
        + IN_RANGE
        + ' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 100',
    ),
    Case(
        'Sessions.averageDurationMinutes',
        _dashboard(['Sessions.averageDurationMinutes'], 'Sessions.startAt'),
        SESSIONS + "SELECT avg(date_diff('millisecond', start_at, end_at) / 60000.0) FROM s WHERE " + IN_RANGE,
    ),
    Case(
        'Sessions.averagePerUser',
        _dashboard(['Sessions.averagePerUser'], 'Sessions.startAt'),
        SESSIONS + 'SELECT 1.0 * count(*) / nullif(count(DISTINCT user_id), 0) FROM s WHERE ' + IN_RANGE,
    ),
    Case(
        'Sessions.repeatPercent',
        _dashboard(['Sessions.repeatPercent'], 'Sessions.startAt'),
        SESSIONS
        + FIRSTS
        + 'SELECT 100.0 * count(*) FILTER (WHERE NOT is_first) / nullif(count(*), 0) FROM f WHERE '
        + IN_RANGE,
    ),
    Case(
        'seed: TrackedEvents.count by docPath, this week',
        {
            'measures': ['TrackedEvents.count'],
            'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': 'This week'}],
            'order': [
                ['TrackedEvents.count', 'desc'],
                ['TrackedEvents.docPath', 'desc'],
                ['TrackedEvents.utcTime', 'asc'],
            ],
            'dimensions': ['TrackedEvents.docPath'],
            'limit': 23,
        },
        "SELECT page_path, count(*) FROM {src} WHERE project_id = '{p}' AND dt BETWEEN '{week0}' AND '{week1}' "
        "AND timestamp >= TIMESTAMPTZ '{week0}' AND timestamp < TIMESTAMPTZ '{week1}' + INTERVAL 1 DAY "
        'GROUP BY 1 ORDER BY 2 DESC, 1 DESC LIMIT 23',
    ),
    Case(
        'join: TrackedEvents.count, Sessions.avgDuration',
        _dashboard(
            ['TrackedEvents.count', 'Sessions.averageDurationMinutes'], TRACKED, dimensions=['Sessions.agentName']
        ),
        # Each session once per browser however many of its events are in range: the de-duplication the
        # compiled query does with its keys sub-query, done here by grouping the events per session first.
        SESSIONS.replace('min(user_id) AS user_id, ', '')
        + ', e AS (SELECT session_id, count(*) AS n FROM {src} WHERE '
        + EVENTS_RANGE
        + ' GROUP BY 1) '
        + "SELECT s.agent_name, sum(e.n), avg(date_diff('millisecond', s.start_at, s.end_at) / 60000.0) "
        + 'FROM e LEFT JOIN s ON e.session_id = s.session_id GROUP BY 1 ORDER BY 2 DESC LIMIT 100',
    ),
    Case(
        'seed: Sessions.count by startAt day',
        {
            **_dashboard(['Sessions.count'], 'Sessions.startAt'),
            'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'day'}],
            'order': {'Sessions.startAt': 'asc'},
        },
        SESSIONS
        + "SELECT date_trunc('day', start_at AT TIME ZONE 'UTC'), count(*) FROM s WHERE "
        + IN_RANGE
        + ' GROUP BY 1 ORDER BY 1 LIMIT 100',
    ),
]


# ------------------------------------------------------------------------------------------------ timing


def _fill(value, values: dict[str, str]):
    """The query with its `{first}`-style placeholders replaced."""
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value.format(**values) if isinstance(value, str) and '{' in value else value


def placeholders(lake: Lake, engine: DuckDBEngine) -> dict[str, str]:
    last = lake.now.date()
    first = last - timedelta(days=DASHBOARD_DAYS - 1)
    monday = last - timedelta(days=last.weekday())
    return {
        'src': engine.lake_source,
        'index': engine.user_sessions_source(MAIN_PROJECT) or 'no user-session index',
        'p': MAIN_PROJECT,
        'first': first.isoformat(),
        'last': last.isoformat(),
        'before': (first - timedelta(days=1)).isoformat(),  # Sessions read one day more on each side
        'after': (last + timedelta(days=1)).isoformat(),
        'week0': monday.isoformat(),
        'week1': (monday + timedelta(days=6)).isoformat(),
    }


def _measure_values(rows: list[tuple]) -> list:
    """The last (measure) column, sorted and rounded: what a compiled and a hand-written query must agree on."""
    return sorted(round(float(row[-1]), 6) if row[-1] is not None else -1.0 for row in rows)


# ------------------------------------------------------------------------------------------- the figures


def load_awaited(query: dict, lake: Lake, engine: DuckDBEngine) -> dict:
    """`load` with the engine awaited directly instead of `wait_for`'s doubling poll interval (2 ms .. 1 s)."""
    plan = plan_load(query, MAIN_PROJECT, engine, lake.now, 'multi')
    return format_load(plan, [engine.execute(sql) for sql in plan.statements], engine.db_type)


def bench_case(case: Case, lake: Lake, engine: DuckDBEngine, values: dict[str, str]) -> dict:
    query = _fill(case.query, values)
    sql = plan_load(query, MAIN_PROJECT, engine, lake.now, 'multi').statements[0]
    hand = case.hand_sql.format(**values)
    times = medians(
        [
            lambda: load(query, MAIN_PROJECT, engine, lake.now, 'multi'),
            lambda: plan_load(query, MAIN_PROJECT, engine, lake.now, 'multi'),
            lambda: engine.execute(sql),
            lambda: load_awaited(query, lake, engine),
            lambda: engine.execute(hand),
        ]
    )
    same = _measure_values(engine.execute(sql).rows) == _measure_values(engine.execute(hand).rows)
    return dict(zip(('load', 'compile', 'sql', 'awaited', 'hand'), times, strict=True), same=same)


def _ms(seconds: float) -> str:
    return f'{seconds * 1000:.0f} ms'


def _verdict(ok: bool) -> str:
    return 'OK' if ok else 'MISSED'


HEADER = (
    f'{"query":<46} {"load()":>8} {"<=1s":<6} {"compile":>8} {"SQL":>7} {"load*":>7} {"hand":>7} '
    f'{"SQL/hand":>8} {"<=1.2x":<6} {"load/hand":>9}'
)


def print_case(name: str, f: dict) -> None:
    ratio = f['sql'] / f['hand']
    print(
        f'{name:<46} {_ms(f["load"]):>8} {_verdict(f["load"] <= TARGET_SECONDS):<6} {f["compile"] * 1000:5.1f} ms '
        f'{_ms(f["sql"]):>7} {_ms(f["awaited"]):>7} {_ms(f["hand"]):>7} {ratio:7.2f}x '
        f'{_verdict(ratio <= TARGET_RATIO):<6} {f["load"] / f["hand"]:8.2f}x'
        + ('' if f['same'] else '  RESULTS DIFFER'),
        flush=True,
    )


def scanned_files(engine: DuckDBEngine, sql: str) -> dict:
    """The Parquet scan's own account of what it read, from DuckDB's JSON profile of `sql`."""
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / 'profile.json'
        cursor = engine.connection.cursor()
        cursor.execute("PRAGMA enable_profiling = 'json'")
        cursor.execute(f"PRAGMA profiling_output = '{output}'")
        cursor.execute(sql).fetchall()
        cursor.execute('PRAGMA disable_profiling')
        cursor.close()
        profile = json.loads(output.read_text())
    scans = [node for node in _operators(profile) if node.get('type') == 'TABLE_SCAN']
    info = scans[0]['extra_info']
    return {
        'files_read': int(info['Total Files Read']),
        # files left after the partition filters / files the glob listed; absent when the scan lists the range's
        # partition folders itself (the DuckDB engine's partition_source on a local lake)
        'scanning': info.get('Scanning Files', 'the listed folders only'),
        'row_groups': scans[0].get('row_groups_scanned'),
        'names': info.get('Filename(s)', ''),  # the first five
    }


def _operators(node: dict):
    for child in node.get('operator', []) + node.get('children', []):
        yield child
        yield from _operators(child)


def bench_pruning(lake: Lake, engine: DuckDBEngine) -> None:
    query = {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [{'dimension': TRACKED, 'dateRange': 'last 7 days'}],
        'timezone': 'UTC',
    }
    sql = plan_load(query, MAIN_PROJECT, engine, lake.now, 'multi').statements[0]
    scan = scanned_files(engine, sql)
    expected = [(lake.now.date() - timedelta(days=d)).isoformat() for d in range(7, 0, -1)]
    shown = [part.split('dt=')[1].split('/')[0] for part in scan['names'].split(', ') if 'dt=' in part]
    ok = (
        scan['files_read'] == 7
        and all(dt in expected for dt in shown)
        and f'project_id={MAIN_PROJECT}/' in scan['names']
    )
    total = len(lake.partitions[MAIN_PROJECT])
    print(
        f'last 7 days: read {scan["files_read"]} of {total} dt partitions ({expected[0]}..{expected[-1]}): '
        f'{_verdict(ok)}  [DuckDB profile of the compiled query: Total Files Read {scan["files_read"]}, Scanning '
        f'Files {scan["scanning"]}, {scan["row_groups"]} row groups; one file per project and day]'
    )


def main() -> None:
    started = time.perf_counter()
    lake, generated = ensure_lake(LAKE_DIR, EVENTS)
    files = list(LAKE_DIR.glob('events/*/*/*.parquet'))
    size = sum(f.stat().st_size for f in files) / 1e9
    how = f'generated in {generated:.0f} s' if generated is not None else 'cached'
    print(f'lake: {LAKE_DIR.relative_to(ROOT)} ({how}): {EVENTS:,} events in project {MAIN_PROJECT} + a 1 % project,')
    print(f'      365 days, {len(files)} files, {size:.2f} GB, ends {lake.now:%Y-%m-%d %H:%M} UTC')
    engine = DuckDBEngine(str(LAKE_DIR))
    values = placeholders(lake, engine)
    print(
        f'dashboard date filter {values["first"]}..{values["last"]} ({DASHBOARD_DAYS} days), limit 100, UTC; '
        f'medians of {RUNS} runs after 1 warm-up (shared 2-core machine, CPU steal)'
    )
    print(HEADER)
    print('  (load* = load() awaiting the engine without poll backoff; hand = hand-written SQL, engine.execute)')
    for case in CASES:
        print_case(case.name, bench_case(case, lake, engine, values))
    bench_pruning(lake, engine)
    engine.close()
    print(f'(bench took {time.perf_counter() - started:.0f} s)')


if __name__ == '__main__':
    main()
