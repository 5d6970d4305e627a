"""Shared helpers of the benchmarks: a quiet, AWS-free environment and realistic request bodies."""

import gc
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'layers' / 'shared')]
os.environ.update(
    AWS_ACCESS_KEY_ID='bench',
    AWS_SECRET_ACCESS_KEY='bench',
    AWS_DEFAULT_REGION='us-east-1',
    POWERTOOLS_SERVICE_NAME='bench',
    POWERTOOLS_METRICS_NAMESPACE='bench',
    POWERTOOLS_LOG_LEVEL='ERROR',
)

AGENTS = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
]
CATEGORIES = ['page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature', 'system']


def event_body(rng: random.Random, now: datetime) -> dict:
    """A seed-style event with the optional fields a real tracker fills (~600 bytes of JSON)."""
    user = f'user_{rng.randrange(5000)}'
    return {
        'event_name': rng.choice(['page_view', 'button_click', 'search', 'checkout', 'login', 'api_latency']),
        'category': rng.choice(CATEGORIES),
        'priority': rng.choice(['low', 'medium', 'high']),
        'event_id': str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        'timestamp': (now - timedelta(seconds=rng.randrange(86_400))).isoformat().replace('+00:00', 'Z'),
        'session_id': f'sess_{rng.randrange(20_000)}',
        'user': {
            'id': user,
            'realm': ['customers'],
            'groups': [rng.choice(['beta', 'staff', 'free'])],
            'roles': ['viewer'],
        },
        'page_url': f'https://app.example.com/docs/page-{rng.randrange(300)}?ref=nav',
        'page_title': 'Documentation',
        'referrer': 'https://www.example.org/',
        'user_agent': rng.choice(AGENTS),
        'app_name': 'web',
        'app_version': '4.2.1',
        'tenant_id': 'acme',
        'properties': {'button': 'save', 'latency_ms': rng.randrange(20, 900), 'tags': ['a', 'b']},
    }


def batches(count: int, size: int, seed: int = 7) -> list[list[dict]]:
    rng = random.Random(seed)
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    return [[event_body(rng, now) for _ in range(size)] for _ in range(count)]


RUNS = max(5, int(os.environ.get('BENCH_RUNS', '7')))


def medians(functions: list[Callable[[], object]], runs: int = RUNS, warm_up: bool = True) -> list[float]:
    """Median seconds of each function over `runs` runs after one warm-up (unless the caller ran them already),
    the functions interleaved per run."""
    for function in functions if warm_up else []:
        function()
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, times in zip(functions, samples, strict=True):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def best_rate(work: Callable[[], int], repeats: int = 5) -> tuple[float, float]:
    """Items per second of `work` (which returns how many items it handled): best and median of `repeats` runs."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        items = work()
        rates.append(items / (time.perf_counter() - started))
    return max(rates), statistics.median(rates)


def best_rates(works: list[Callable[[], int]], repeats: int = 9) -> list[tuple[float, float]]:
    """Items per second of each work (which returns how many items it handled): best and median of `repeats` runs,
    the works interleaved run by run, so that a busy spell of a shared machine slows them alike and their ratios
    hold within one run."""
    rates: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for work, samples in zip(works, rates, strict=True):
            gc.collect()  # the garbage of the work before is not this one's to collect
            started = time.perf_counter()
            items = work()
            samples.append(items / (time.perf_counter() - started))
    return [(max(samples), statistics.median(samples)) for samples in rates]


class StubAws:
    """An in-memory stand-in for the boto3 clients the ingest and writer adapters call: every call succeeds,
    and what would have been sent is only counted. Benchmarks only: it keeps AWS latency out of a CPU figure.

    The items put in the `remembered` tables (keys `pk`, `sk`: the users table) are kept, and batch_get_item answers
    from them, so that a writer reading back what it wrote (the user directory) is measured in its steady state
    rather than as if every user were new in every batch; other tables read as empty."""

    def __init__(self, remembered: Iterable[str] = ()) -> None:
        self.records = 0
        self.record_bytes = 0
        self.object_bytes = 0
        self.transactions = 0
        self.transaction_items = 0
        self.items: dict[str, dict[tuple[str, ...], dict]] = {table: {} for table in remembered}

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:  # noqa: N803 - boto3 argument names
        self.records += len(Records)
        self.record_bytes += sum(len(record['Data']) for record in Records)
        return {'FailedRecordCount': 0, 'Records': [{'SequenceNumber': '1', 'ShardId': 's'} for _ in Records]}

    def update_item(self, **request) -> dict:
        return {}

    def put_item(self, TableName: str, Item: dict, **request) -> dict:  # noqa: N803
        self._remember(TableName, Item)
        return {}

    def transact_write_items(self, TransactItems: list[dict]) -> dict:  # noqa: N803
        self.transactions += 1
        self.transaction_items += len(TransactItems)
        for operation in TransactItems:
            if 'Put' in operation:
                self._remember(operation['Put']['TableName'], operation['Put']['Item'])
            elif 'Delete' in operation and operation['Delete']['TableName'] in self.items:
                self.items[operation['Delete']['TableName']].pop(_stub_key(operation['Delete']['Key']), None)
        return {}

    def batch_get_item(self, RequestItems: dict) -> dict:  # noqa: N803
        responses = {
            table: [item for key in request['Keys'] if (item := self.items[table].get(_stub_key(key)))]
            for table, request in RequestItems.items()
            if table in self.items
        }
        return {'Responses': responses, 'UnprocessedKeys': {}}

    def put_object(self, Body: bytes, **request) -> dict:  # noqa: N803
        self.object_bytes += len(Body)
        return {}

    def _remember(self, table: str, item: dict) -> None:
        if table in self.items:
            self.items[table][_stub_key(item)] = item


def _stub_key(item: dict) -> tuple[str, ...]:
    return tuple(item[name]['S'] for name in ('pk', 'sk') if name in item)


@contextmanager
def aws_stubbed(stub: StubAws | None = None) -> Iterator[StubAws]:
    """Every adapter's AWS client replaced by one StubAws: `stub`, or a new one that remembers nothing."""
    from serverless_analytics.adapters import dynamodb, kinesis, s3

    if stub is None:
        stub = StubAws()
    with ExitStack() as stack:
        for adapter in (dynamodb, kinesis, s3):
            stack.enter_context(mock.patch.object(adapter, 'client', lambda service, **_: stub))
        yield stub


class _CannedBody:
    """The raw body botocore reads a canned response from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _canned_answer(request: Any, **_: Any) -> Any:
    """A success for the request, with the body botocore parses: DynamoDB answers JSON (a BatchGetItem that finds
    nothing), S3 an empty body."""
    from botocore.awsrequest import AWSResponse

    target = request.headers.get('X-Amz-Target', b'')
    target = target.decode() if isinstance(target, bytes) else target
    if target.endswith('BatchGetItem'):
        body = b'{"Responses": {}, "UnprocessedKeys": {}}'
    else:
        body = b'{}' if target else b''
    return AWSResponse(request.url, 200, {}, _CannedBody(body))


@contextmanager
def aws_sdk_answered() -> Iterator[None]:
    """The adapters' real DynamoDB and S3 clients, each request validated, serialized and signed by botocore as in
    Lambda, then answered at once with a canned success instead of being sent: the SDK's CPU without the network's
    wait. Every table reads empty."""
    from serverless_analytics.adapters import clients

    clients.reset_clients()
    hooks = [
        clients.client(service, validated=validated).meta.events
        for service in ('dynamodb', 's3')
        for validated in (True, False)
    ]
    for events in hooks:
        events.register('before-send', _canned_answer)
    try:
        yield
    finally:
        for events in hooks:
            events.unregister('before-send', _canned_answer)
        clients.reset_clients()


def lambda_context(function: str) -> Any:
    """The runtime's context object for a function of the template."""
    from local.runtime import LocalFunction
    from local.template import Template

    return LocalFunction(Template.load().function(function)).context()
