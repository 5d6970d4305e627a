"""The local stack's memory under hostile traffic: RSS after each round of one fixed mix, so that bounded
memory shows as a plateau and a leak as a slope.

The stack runs in this process (moto, gateway, poller, handlers), with demo events in its lake so that the
queries that are valid read rows. Each round sends every route of the template the same requests: malformed
and deeply nested JSON, bodies over the handlers' 1 MiB cap, query strings near API Gateway's 10 KB head
limit, 10,000-measure Cube queries, invalid dates, paging past any page, and the heaviest valid queries
(every event id, every event with ten of its columns, a full export page, every day of a year). After each
round it prints RSS, RSS once glibc has handed back its free pages (malloc_trim), the blocks Python has
allocated (its live objects), and what the stack keeps: the DuckDB engine's results, the threads, moto's
Kinesis records and DynamoDB items.

    PYTHONPATH=. .venv/bin/python bench/bench_local_memory.py
    BENCH_MEMORY_ROUNDS=20 BENCH_MEMORY_EVENTS=3000 BENCH_TRACEMALLOC=1 ...   (more rounds, more data, top growth)
"""

import contextlib
import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from local import demo_data
from local.stack import LocalStack

ROUNDS = int(os.environ.get('BENCH_MEMORY_ROUNDS', 16))
DEMO_EVENTS = int(os.environ.get('BENCH_MEMORY_EVENTS', 5000))  # as many as make run loads
TRACE = os.environ.get('BENCH_TRACEMALLOC') == '1'
PARAMETERS = {'StreamBatchingWindowSeconds': '1'}
MIB = 1024 * 1024
LIBC = ctypes.CDLL('libc.so.6')


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes | None = None
    query: str = ''


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _cube(query: dict[str, Any]) -> bytes:
    return _json({'query': query, 'queryType': 'multi'})


def _as_parameter(query: dict[str, Any]) -> str:
    return f'query={json.dumps(query)}'


def _invalid_date_range() -> dict[str, Any]:
    time_dimension = {'dimension': 'TrackedEvents.utcTime', 'dateRange': ['2026-02-30', 'x']}
    return {'measures': ['TrackedEvents.count'], 'timeDimensions': [time_dimension]}


def _every_event_id() -> dict[str, Any]:
    return {'measures': ['TrackedEvents.count'], 'dimensions': ['TrackedEvents.eventId'], 'limit': 50_000}


def _every_event_in_full() -> dict[str, Any]:
    """Every event, ten of its columns: the widest result a valid load returns here."""
    names = ['eventId', 'eventName', 'pageUrl', 'pageTitle', 'pageReferrer', 'useragent']
    names += ['agentName', 'osName', 'deviceFamily', 'docPath']
    return {'measures': ['TrackedEvents.count'], 'dimensions': [f'TrackedEvents.{n}' for n in names], 'limit': 50_000}


def hostile_mix() -> list[Hostile]:
    """The same requests every round; each goes to every route, whatever the route expects."""
    deep = 5_000
    return [
        Hostile('malformed-json', b'{"query": {"measures": ["TrackedEvents.count"'),
        Hostile('deep-array', b'[' * deep + b']' * deep),
        Hostile('deep-object', b'{"a":' * deep + b'1' + b'}' * deep),
        Hostile('body-over-1-mib', _json({'event_name': 'x' * (MIB + 16)})),
        Hostile('long-query-string', query='&'.join(f'p{i}=v' for i in range(1_200))),
        Hostile('ten-thousand-measures', _cube({'measures': ['TrackedEvents.count'] * 10_000})),
        Hostile('ten-thousand-unknown-measures', _cube({'measures': [f'TrackedEvents.m{i}' for i in range(10_000)]})),
        Hostile(
            'invalid-dates',
            _json({'startDate': '2026-02-30', 'endDate': '0000-13-45T25:61', 'groupByPeriod': 'day'}),
            query=_as_parameter(_invalid_date_range()),
        ),
        Hostile('paging-overflow', _json({'paging': {'page': 10**30, 'perPage': 10**9}}), query='page=1' + '0' * 40),
        Hostile('every-event-id', _cube(_every_event_id()), query=_as_parameter(_every_event_id())),
        Hostile('every-event-in-full', _cube(_every_event_in_full()), query=_as_parameter(_every_event_in_full())),
        Hostile('export-a-full-page', _json({'startDate': _a_year_ago(), 'paging': {'page': 1, 'perPage': 1000}})),
        Hostile('count-every-day-of-a-year', _json({'startDate': _a_year_ago(), 'groupByPeriod': 'day'})),
    ]


def _a_year_ago() -> str:
    return time.strftime('%Y-%m-%d', time.gmtime(time.time() - 360 * 86_400))


def _routes(stack: LocalStack) -> list[tuple[str, str]]:
    return [
        (route.method, route.path.replace('{project_id}', '1'))
        for route, _ in stack.template.http_routes
        if route.method in ('GET', 'POST')
    ]


def send_round(session: requests.Session, stack: LocalStack, mix: list[Hostile]) -> dict[int, int]:
    """Every request of the mix to every route; the count of each status answered."""
    statuses: dict[int, int] = {}
    headers = {'Authorization': f'Bearer {stack.api_key}', 'Content-Type': 'application/json'}
    for method, path in _routes(stack):
        for hostile in mix:
            url = f'{stack.url}{path}?{hostile.query}' if hostile.query else stack.url + path
            body = hostile.body if method == 'POST' else None
            status = session.request(method, url, data=body, headers=headers, timeout=120).status_code
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


def rss_mib() -> float:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    raise RuntimeError('No VmRSS in /proc/self/status')


def kept_by_the_stack(stack: LocalStack) -> dict[str, int]:
    """What the stack holds on to that grows with traffic, as counts."""
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.query_engine import query_engine

    engine = query_engine(get_settings())
    kinesis = stack.client('kinesis')
    dynamodb = stack.client('dynamodb')
    shards = kinesis.list_shards(StreamName=stack.name_of('EventsStream'))['Shards']
    return {
        'engine_results': len(getattr(engine, '_running', ())),
        'threads': threading.active_count(),
        'kinesis_records': sum(_records_in(kinesis, stack, shard['ShardId']) for shard in shards),
        'dynamodb_items': sum(
            dynamodb.describe_table(TableName=name)['Table']['ItemCount']
            for name in dynamodb.list_tables()['TableNames']
        ),
    }


def _records_in(kinesis: Any, stack: LocalStack, shard_id: str) -> int:
    iterator = kinesis.get_shard_iterator(
        StreamName=stack.name_of('EventsStream'), ShardId=shard_id, ShardIteratorType='TRIM_HORIZON'
    )['ShardIterator']
    count = 0
    while iterator:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        count += len(response['Records'])
        if not response['Records']:
            return count
        iterator = response.get('NextShardIterator')
    return count


@contextlib.contextmanager
def handlers_quiet() -> Iterator[None]:
    """The handlers print their metrics (EMF) on stdout after each request, as in Lambda: not here."""
    with Path(os.devnull).open('w') as devnull, contextlib.redirect_stdout(devnull):
        yield


def main() -> None:
    figures = sys.stdout
    with LocalStack(moto_port=0, api_port=0, parameter_overrides=PARAMETERS) as stack, handlers_quiet():
        demo_data.load(stack.url, stack.api_key, demo_data.generate(DEMO_EVENTS, days=60))
        stack.drain(timeout=600)
        stack.scheduler.run_all()
        mix = hostile_mix()
        print(f'{len(_routes(stack))} routes x {len(mix)} requests per round, {DEMO_EVENTS} demo events', file=figures)
        print(_header(), file=figures)
        print(_row(0, {}, stack, time.monotonic()), file=figures, flush=True)
        if TRACE:
            tracemalloc.start(25)
        first = None
        with requests.Session() as session:
            for number in range(1, ROUNDS + 1):
                started = time.monotonic()
                statuses = send_round(session, stack, mix)
                print(_row(number, statuses, stack, started), file=figures, flush=True)
                if TRACE and number == 1:
                    first = tracemalloc.take_snapshot()
        if TRACE and first is not None:
            _print_growth(first, tracemalloc.take_snapshot(), figures)


def _header() -> str:
    return (
        f'{"round":>5} {"RSS MiB":>8} {"trimmed":>8} {"py kblk":>7} {"results":>7} {"threads":>7} '
        f'{"records":>7} {"items":>6} {"secs":>5}  statuses'
    )


def _row(number: int, statuses: dict[int, int], stack: LocalStack, started: float) -> str:
    gc.collect()
    rss = rss_mib()
    LIBC.malloc_trim(0)
    trimmed = rss_mib()
    python_blocks = sys.getallocatedblocks() / 1000  # Python's live objects, without tracemalloc's cost
    kept = kept_by_the_stack(stack)
    answered = ' '.join(f'{status}:{count}' for status, count in sorted(statuses.items()))
    return (
        f'{number:>5} {rss:>8.0f} {trimmed:>8.0f} {python_blocks:>7.0f} {kept["engine_results"]:>7} '
        f'{kept["threads"]:>7} {kept["kinesis_records"]:>7} {kept["dynamodb_items"]:>6} '
        f'{time.monotonic() - started:>5.1f}  {answered}'
    )


def _print_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, out: Any) -> None:
    print('\nPython allocations grown most since round 1 (tracemalloc):', file=out)
    for stat in last.compare_to(first, 'traceback')[:8]:
        print(f'  {stat.size_diff / MIB:+.1f} MiB in {stat.count_diff:+} blocks', file=out)
        for line in stat.traceback.format()[-6:]:
            print(f'    {line}', file=out)


if __name__ == '__main__':
    main()
