"""Insights (issue 14): the usage rollup's speed, and the insights answers' latency over 90 days of buckets.

1. Rollup: agent reports every 30 s (the bulk of Coder telemetry) for USERS users over HOURS active hours of one day,
   as lake rows; `usage_buckets` over them, beside the floor of DuckDB only reading the same Arrow table
   (`count(*)` grouped by minute). Prints events/s per core and what a full recompute of 90 days for 1,000 users,
   10 templates, agents reporting every 30 s for 8 h a day would take at that rate (the 15-minute Lambda run).
2. Answers: 90 days of buckets for BUCKET_USERS users and 10 templates, and their app catalogue, written as the
   rollup writes them, then the template insights and user-activity answers on DuckDB (median of RUNS), beside the
   floor of one `count(*)` over the same files; and the DAU answer from its daily aggregates (in memory: no network
   locally).
"""

import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import RUNS  # first: it puts the layer on the path
from local.environment import required_settings_environment  # noqa: E402

os.environ.update(required_settings_environment())

from serverless_analytics.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from serverless_analytics.lake.schema import FILE_SCHEMA  # noqa: E402
from serverless_analytics.logic import insights_queries  # noqa: E402
from serverless_analytics.logic.app_catalogue import catalogue_key, merged_catalogue  # noqa: E402
from serverless_analytics.logic.daus import daus_body  # noqa: E402
from serverless_analytics.logic.usage_buckets import BUCKET_SCHEMA, usage_buckets  # noqa: E402
from serverless_analytics.logic.usage_rollup import bucket_key  # noqa: E402
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA  # noqa: E402

USERS, HOURS = 200, 8
TEMPLATES = [str(uuid.UUID(int=i + 1, version=4)) for i in range(10)]
DAY = datetime(2026, 11, 2, tzinfo=UTC)
BUCKET_USERS, BUCKET_DAYS = 1000, 90


def agent_reports(users: int, hours: int) -> pa.Table:
    rows = []
    for user in range(users):
        template = TEMPLATES[user % len(TEMPLATES)]
        start = DAY + timedelta(hours=8)
        for i in range(hours * 120):
            at = start + timedelta(seconds=30 * i)
            properties = json.dumps(
                {
                    'connection_count': 1,
                    'connection_median_latency_ms': 10 + i % 7,
                    'session_count_ssh': 1,
                    'session_count_vscode': i % 2,
                }
            )
            rows.append(
                {
                    'event_id': str(uuid.uuid4()),
                    'name': 'workspace.agent_stats',
                    'timestamp': at,
                    'received_at': at,
                    'user_id': f'user-{user}',
                    'template_id': template,
                    'properties': properties,
                }
            )
    return pa.Table.from_pylist(rows, schema=FILE_SCHEMA)


def rollup_bench() -> None:
    events = agent_reports(USERS, HOURS)
    import duckdb

    def floor() -> None:
        connection = duckdb.connect()
        connection.register('lake_rows', events)
        connection.sql('SELECT date_trunc(\'minute\', "timestamp"), count(*) FROM lake_rows GROUP BY 1').fetchall()
        connection.close()

    ours = _median(lambda: usage_buckets(events, DAY, DAY + timedelta(days=1)))
    base = _median(floor)
    rate = len(events) / ours
    full = BUCKET_USERS * BUCKET_DAYS * HOURS * 120
    print(f'usage rollup: {len(events):,} agent reports in {ours * 1000:.0f} ms: {rate:,.0f} events/s per core')
    print(f'  floor (DuckDB reading the same rows, grouped by minute): {base * 1000:.0f} ms; ratio {ours / base:.1f}x')
    print(
        f'  full recompute, 90 days x 1,000 users x 8 h of reports every 30 s = {full:,} events: '
        f'{full / rate / 60:.1f} min at this rate (a Lambda run allows 15 min; runs go on where one stopped)'
    )


def bucket_lake(root: Path) -> None:
    """BUCKET_DAYS of buckets for BUCKET_USERS users, 16 buckets a day each, as the rollup writes them."""
    for day_index in range(BUCKET_DAYS):
        day = DAY - timedelta(days=day_index)
        rows = []
        for user in range(BUCKET_USERS):
            for bucket in range(16):
                rows.append(
                    {
                        'bucket_start': day + timedelta(hours=8, minutes=30 * bucket),
                        'template_id': TEMPLATES[user % len(TEMPLATES)],
                        'user_id': f'user-{user}',
                        'usage_minutes': 30,
                        'vscode_minutes': 15,
                        'jetbrains_minutes': 0,
                        'reconnecting_pty_minutes': 0,
                        'ssh_minutes': 30,
                        'sftp_minutes': 0,
                        'app_minutes': '{"code-server": 12}',
                        'median_latency_ms': 12.5,
                    }
                )
        path = root / bucket_key('usage', '1', day.date())
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=BUCKET_SCHEMA), path)
    app_catalogue(root)


def app_catalogue(root: Path) -> None:
    """The project's app catalogue as the rollup keeps it: code-server, defined by a build of each template."""
    app = [{'agent_id': 'a1', 'slug': 'code-server', 'display_name': 'code-server', 'icon': '/icon/code.svg'}]
    builds = [
        {
            'workspace_id': f'w{index}',
            'build_number': 1,
            'template_id': template_id,
            'created_at': DAY,
            'received_at': DAY,
            'template_version_id': 'v1',
            'apps': json.dumps(app),
            'parameters': '[]',
            'template_parameters': '[]',
        }
        for index, template_id in enumerate(TEMPLATES)
    ]
    path = root / catalogue_key('usage', '1')
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(merged_catalogue(None, [pa.Table.from_pylist(builds, schema=BUILD_SCHEMA)]), path)


def answers_bench() -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / 'events').mkdir()
        bucket_lake(root)
        engine = DuckDBEngine(str(root))
        start = DAY - timedelta(days=BUCKET_DAYS - 1)
        end = DAY + timedelta(days=1)
        templates = _median(
            lambda: insights_queries.template_insights(engine, '1', start, end, interval=None, timeout=60)
        )
        activity = _median(lambda: insights_queries.user_activity(engine, '1', start, end, timeout=60))
        floor = _median(lambda: engine.execute(f'SELECT count(*) FROM {engine.usage_source}'))
        aggregates = [
            {'sk': (DAY.date() - timedelta(days=i)).isoformat(), 'users': BUCKET_USERS, 'by_template': {}}
            for i in range(61)
        ]
        daus = _median(lambda: daus_body(aggregates, DAY + timedelta(hours=12), -2))
    buckets = BUCKET_DAYS * BUCKET_USERS * 16
    print(
        f'insights over {buckets:,} buckets (90 days, {BUCKET_USERS:,} users, 10 templates), DuckDB, median of {RUNS}:'
    )
    print(f'  template insights {templates * 1000:.0f} ms, user activity {activity * 1000:.0f} ms (target <= 500 ms)')
    print(
        f'  floor (count(*) over the same files): {floor * 1000:.0f} ms; ratios {templates / floor:.1f}x, '
        f'{activity / floor:.1f}x'
    )
    print(f'  DAUs from 61 daily aggregates: {daus * 1000:.2f} ms (target <= 50 ms; plus one DynamoDB Query deployed)')


def _median(run) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == '__main__':
    rollup_bench()
    answers_bench()
