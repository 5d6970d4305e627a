"""The user directory's DynamoDB cost (issue 14): reads and writes per million events of Coder-shaped telemetry.

USERS users' telemetry over DAYS days (local.coder_telemetry: agent reports every 30 s, app sessions, builds, page
views, status changes) is delivered in time order, a stream batch being what arrives in one batching window:
the directory's own (the template's `UserDirectoryBatchingWindowSeconds`), and for comparison the stream
writer's (`StreamBatchingWindowSeconds`), which the directory shared when the writer kept it. Each batch goes
through the directory's own planning (`user_events`, `plan_writes`) against an in-memory copy of the users table,
so the figures are what it would send to DynamoDB: one BatchGetItem key per user and batch, a conditional put per
changed entry, a transaction when history items change.

Beside them, the ceiling the directory had before it kept activity to the hour: one write per (user, batch),
since every batch moved the user's last-seen time. Prices: on-demand, $0.625 per million write units (a
transaction's items twice), $0.125 per million read units (an eventually consistent read of up to 4 KB is half a
unit), us-east-1.
"""

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from bench.common import RUNS  # noqa: F401 - first: it puts the layer on the path
from local import coder_telemetry
from local.template import Template
from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.user_directory import plan_writes, user_events

USERS, TEMPLATES, DAYS = 40, 5, 7
PARAMETERS = Template.load().parameters
WINDOWS = {
    "the directory's own window": timedelta(seconds=int(PARAMETERS['UserDirectoryBatchingWindowSeconds'])),
    "the stream writer's window": timedelta(seconds=int(PARAMETERS['StreamBatchingWindowSeconds'])),
}
PROJECT = '1'
WRITE_PRICE, READ_PRICE = 0.625, 0.125  # dollars per million units


def lake_rows(events: list[dict[str, Any]]) -> pa.Table:
    """The lake rows the directory reads of the events (the columns it reads; the rest empty)."""
    return pa.Table.from_pylist(
        [
            {
                'event_id': event['event_id'],
                'name': event['event_name'],
                'timestamp': datetime.fromisoformat(event['timestamp']).astimezone(UTC),
                'user_id': (event.get('user') or {}).get('id'),
                'username': (event.get('user') or {}).get('username'),
                'avatar_url': (event.get('user') or {}).get('avatar_url'),
                'properties': json.dumps(event.get('properties') or {}),
            }
            for event in events
        ],
        schema=FILE_SCHEMA,
    )


def stream_batches(events: list[dict[str, Any]], window: timedelta) -> list[pa.Table]:
    """The events in time order, one batch per batching window."""
    by_window: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        at = datetime.fromisoformat(event['timestamp'])
        by_window[int(at.timestamp() // window.total_seconds())].append(event)
    return [lake_rows(by_window[window]) for window in sorted(by_window)]


def units(item: Mapping[str, Any], per: int) -> int:
    return max(1, math.ceil(len(json.dumps(item)) / per))


def replay(batches: list[pa.Table]) -> dict[str, float]:
    """Every batch planned against the table as the previous batches left it; what that sends to DynamoDB."""
    table: dict[str, dict[str, Any]] = {}
    figures = dict.fromkeys(('pairs', 'reads', 'read_units', 'puts', 'transactions', 'write_units'), 0.0)
    for rows in batches:
        events = user_events(rows)
        stored = {user: table[user] for user in events if user in table}
        figures['pairs'] += len(events)
        figures['reads'] += len(events)
        figures['read_units'] += sum(units(item, 4096) / 2 for item in stored.values()) + 0.5 * (
            len(events) - len(stored)
        )
        for write in plan_writes(PROJECT, stored, events):
            table[write.entry['user_id']] = dict(write.entry)
            items = [write.entry, *write.put_items, *write.delete_keys]
            if write.put_items or write.delete_keys:
                figures['transactions'] += 1
                figures['write_units'] += 2 * sum(units(item, 1024) for item in items)
            else:
                figures['puts'] += 1
                figures['write_units'] += units(write.entry, 1024)
    return figures


def main() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    telemetry = coder_telemetry.generate(seed=7, start=start, days=DAYS, users=USERS, templates=TEMPLATES)
    events = sorted(telemetry.events, key=lambda event: datetime.fromisoformat(event['timestamp']))
    with_user = sum(1 for event in events if event.get('user'))
    print(f'user directory: {len(events):,} events ({with_user:,} with a user), {USERS} users, {DAYS} days')
    for name, window in WINDOWS.items():
        report(name, window, events)


def report(name: str, window: timedelta, events: list[dict[str, Any]]) -> None:
    batches = stream_batches(events, window)
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        figures = replay(batches)
        timings.append(time.perf_counter() - began)
    per_million = 1_000_000 / len(events)
    cost = (figures['write_units'] * WRITE_PRICE + figures['read_units'] * READ_PRICE) / 1e6 * per_million
    reads = figures['read_units'] * READ_PRICE / 1e6 * per_million
    ceiling = figures['pairs'] * WRITE_PRICE / 1e6 * per_million
    print(f'{name}: {len(batches):,} batches of {window.total_seconds():.0f} s')
    print(
        f'  per million events: {figures["reads"] * per_million:,.0f} keys read, '
        f'{figures["puts"] * per_million:,.0f} conditional puts, '
        f'{figures["transactions"] * per_million:,.0f} transactions; '
        f'{figures["write_units"] * per_million:,.0f} write units, {figures["read_units"] * per_million:,.0f} read units'
    )
    print(
        f'  cost per million events: ${cost:.4f}, of which reads ${reads:.4f} (writes once per user and batch, as '
        f'before the hourly rule: {figures["pairs"] * per_million:,.0f} writes, at least ${ceiling:.4f}; '
        f'ratio {cost / ceiling:.3f})'
    )
    print(
        f'  planning CPU: {statistics.median(timings) / figures["pairs"] * 1e6:.0f} µs per (user, batch), '
        f'median of {len(timings)} replays'
    )


if __name__ == '__main__':
    main()
