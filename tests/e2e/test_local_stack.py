"""The local stack's own parts: template resolution, API Gateway events, the event source mapping, moto fixes."""

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import requests
from botocore.exceptions import ClientError
from moto.kinesis.models import kinesis_backends

from local import faults
from local.faults import AwsFrontend, KinesisFaults
from local.gateway import BoundRoute, IncomingRequest, Router, build_event, to_response
from local.poller import KinesisPoller
from local.runtime import FunctionRegistry, LocalFunction
from local.scheduler import Scheduler, next_cron_time, rate_seconds
from local.stack import LocalStack
from local.template import ACCOUNT_ID, REGION, FunctionSpec, Route, ScheduleSource, Template
from serverless_analytics.engines import DuckDBEngine, wait_for
from serverless_analytics.models.errors import UnknownExecutionError
from tests.e2e import stub_scheduled, stub_writer
from tests.e2e.support import TRACK, bearer

pytestmark = pytest.mark.e2e


# ---- template ---------------------------------------------------------------------------------------


def test_template_functions_routes_and_mapping_come_from_the_template() -> None:
    template = Template.load(parameter_overrides={'StreamBatchSize': '50'})

    routes = {(route.method, route.path): spec.logical_id for route, spec in template.http_routes}
    writer = template.stream_writer

    assert (
        routes.items()
        >= {
            ('POST', '/api/v1/analytics'): 'TrackEventFunction',
            ('POST', '/api/v1/analytics/batch'): 'TrackBatchFunction',
            ('GET', '/api/v1/analytics/stats'): 'GetStatsFunction',
            ('GET', '/api/v1/analytics/health'): 'GetHealthFunction',
        }.items()
    )
    assert writer.module == 'functions.write_events.app'
    assert writer.kinesis.batch_size == 50
    assert writer.kinesis.on_failure_bucket == 'failedbatchesbucket'
    assert writer.environment['EVENTS_STREAM_NAME'] == 'EventsStream'
    assert writer.environment['LAKE_BUCKET'] == 'lakebucket'
    assert writer.environment['STREAM_BATCH_SIZE'] == '50'


def test_each_consumer_of_the_stream_has_its_own_mapping() -> None:
    template = Template.load(parameter_overrides={'UserDirectoryBatchingWindowSeconds': '30'})

    consumers = {spec.logical_id: spec.kinesis for spec in template.stream_consumers}

    assert set(consumers) == {'WriteEventsFunction', 'UpdateUserDirectoryFunction'}
    directory, writer = consumers['UpdateUserDirectoryFunction'], consumers['WriteEventsFunction']
    assert (directory.batch_size, directory.batching_window_seconds) == (10_000, 30)
    assert (writer.batch_size, writer.batching_window_seconds) == (2000, 5)
    assert directory.stream_arn == writer.stream_arn
    assert template.stream_writer.logical_id == 'WriteEventsFunction'


def test_sub_keeps_escaped_placeholders() -> None:
    template = Template.load()

    table = template.resources_of_type('AWS::Glue::Table')['EventsGlueTable']

    location = table['TableInput']['Parameters']['storage.location.template']
    assert location == 's3://lakebucket/events/project_id=${project_id}/dt=${dt}/'


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(KeyError):
        _ = Template.load(parameter_overrides={'NoSuchParameter': '1'}).parameters


# ---- gateway ----------------------------------------------------------------------------------------


def _bound(path: str, method: str = 'GET') -> BoundRoute:
    spec = FunctionSpec('F', 'functions.f.app', 'lambda_handler', 3, 128, {}, ())
    return Router([(Route(method, path), LocalFunction(spec))]).routes[0]


def _request(**overrides: object) -> IncomingRequest:
    values = {
        'method': 'GET',
        'raw_path': '/projects/42/items',
        'raw_query': 'a=1&a=2&b=x%20y',
        'header_pairs': [
            ('Accept', 'a/b'),
            ('X-Multi', '1'),
            ('x-multi', '2'),
            ('Cookie', 'c1=v1; c2=v2'),
            ('Host', 'h:1'),
        ],
        'body': b'',
        'source_ip': '10.1.2.3',
        'protocol': 'HTTP/1.1',
        'port': 3000,
    }
    return IncomingRequest(**{**values, **overrides})


def test_event_is_payload_format_2() -> None:
    bound = _bound('/projects/{id}/items')
    matched = Router([(bound.route, bound.function)]).match('GET', '/projects/42/items')

    event = build_event(_request(), *matched)

    assert event['version'] == '2.0'
    assert event['routeKey'] == 'GET /projects/{id}/items'
    assert (event['rawPath'], event['rawQueryString']) == ('/projects/42/items', 'a=1&a=2&b=x%20y')
    assert event['queryStringParameters'] == {'a': '1,2', 'b': 'x y'}
    assert event['pathParameters'] == {'id': '42'}
    assert event['headers']['x-multi'] == '1,2'
    assert 'cookie' not in event['headers']
    assert event['cookies'] == ['c1=v1', 'c2=v2']
    assert event['requestContext']['http'] == {
        'method': 'GET',
        'path': '/projects/42/items',
        'protocol': 'HTTP/1.1',
        'sourceIp': '10.1.2.3',
        'userAgent': '',
    }
    assert event['requestContext']['stage'] == '$default'
    assert event['isBase64Encoded'] is False
    assert 'body' not in event


def test_binary_body_is_base64_and_json_is_text() -> None:
    bound = _bound('/upload', 'POST')
    binary = _request(method='POST', raw_path='/upload', body=b'\x00\xff', header_pairs=[('Content-Type', 'image/png')])
    text = _request(
        method='POST',
        raw_path='/upload',
        body=b'{"a":1}',
        header_pairs=[('Content-Type', 'application/json; charset=utf-8')],
    )

    binary_event, text_event = build_event(binary, bound, {}), build_event(text, bound, {})

    assert (binary_event['body'], binary_event['isBase64Encoded']) == (base64.b64encode(b'\x00\xff').decode(), True)
    assert (text_event['body'], text_event['isBase64Encoded']) == ('{"a":1}', False)


def test_response_reading_follows_api_gateway() -> None:
    proxy = to_response(
        {
            'statusCode': 201,
            'headers': {'X-A': '1'},
            'cookies': ['s=1'],
            'body': base64.b64encode(b'hi').decode(),
            'isBase64Encoded': True,
        }
    )
    inferred = to_response({'hello': 'world'})

    assert (proxy.status, proxy.body) == (201, b'hi')
    assert ('Set-Cookie', 's=1') in proxy.headers
    assert (inferred.status, json.loads(inferred.body)) == (200, {'hello': 'world'})


def test_a_chunked_request_reaches_the_handler_whole(stack: LocalStack) -> None:
    body = json.dumps({'event_name': 'sent_in_chunks', 'category': 'feature'}).encode()
    chunks = iter([body[:7], body[7:]])  # requests sends an iterable body with Transfer-Encoding: chunked
    headers = {**bearer(stack.api_key), 'Content-Type': 'application/json'}

    response = requests.post(stack.url + TRACK, data=chunks, headers=headers, timeout=30)

    assert response.status_code == 200, response.text
    assert response.json()['success'] is True


def test_static_route_wins_over_parameter() -> None:
    spec = FunctionSpec('F', 'functions.f.app', 'lambda_handler', 3, 128, {}, ())
    router = Router(
        [(Route('GET', '/items/{id}'), LocalFunction(spec)), (Route('GET', '/items/special'), LocalFunction(spec))]
    )

    assert router.match('GET', '/items/special')[0].route.path == '/items/special'
    assert router.match('GET', '/items/7')[1] == {'id': '7'}


# ---- event source mapping ---------------------------------------------------------------------------


@pytest.fixture
def stub_poller(stack: LocalStack) -> Iterator[tuple[KinesisPoller, str]]:
    kinesis = stack.client('kinesis')
    stream = f'poller-test-{uuid.uuid4().hex[:8]}'
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    writer = stack.template.stream_writer
    source = replace(
        writer.kinesis,
        stream_name=stream,
        stream_arn=writer.kinesis.stream_arn.rsplit('/', 1)[0] + f'/{stream}',
        batch_size=4,
        batching_window_seconds=0,
        max_retry_attempts=2,
    )
    spec = replace(writer, logical_id='StubWriter', module='tests.e2e.stub_writer', kinesis=source)
    stub_writer.invocations.clear()
    stub_writer.report_once.clear()
    poller = KinesisPoller(LocalFunction(spec), stack.aws_endpoint, poll_interval_seconds=0.05)
    yield poller, stream
    poller.stop()


def _put(stack: LocalStack, stream: str, payloads: list[bytes]) -> None:
    records = [{'Data': data, 'PartitionKey': 'k'} for data in payloads]
    stack.client('kinesis').put_records(StreamName=stream, Records=records)


def _failure_records(stack: LocalStack, poller: KinesisPoller) -> list[dict]:
    s3 = stack.client('s3')
    bucket = poller.source.on_failure_bucket
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f'aws/lambda/{poller.mapping_uuid}/')
    return [json.loads(s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read()) for o in listing.get('Contents', [])]


def test_partial_failure_redelivers_from_the_lowest_failed_record(stack: LocalStack, stub_poller) -> None:
    poller, stream = stub_poller
    stub_writer.report_once.add(b'r2')
    _put(stack, stream, [b'r1', b'r2', b'r3', b'r4'])

    poller.start()
    poller.drain(timeout=20)

    assert stub_writer.invocations == [[b'r1', b'r2', b'r3', b'r4'], [b'r2', b'r3', b'r4']]


def test_a_drain_does_not_wait_out_a_batchs_window(stack: LocalStack, stub_poller) -> None:
    poller, stream = stub_poller
    poller.source = replace(poller.source, batch_size=100, batching_window_seconds=300)
    _put(stack, stream, [b'w1', b'w2'])

    poller.start()
    poller.drain(timeout=20)  # well inside the 300 s window: the batch went when the drain began

    assert stub_writer.invocations == [[b'w1', b'w2']]


def test_function_error_bisects_then_sends_the_bad_record_to_on_failure(stack: LocalStack, stub_poller) -> None:
    poller, stream = stub_poller
    _put(stack, stream, [b'a', b'boom', b'c', b'd'])

    poller.start()
    poller.drain(timeout=20)

    delivered = [data for batch in stub_writer.invocations if b'boom' not in batch for data in batch]
    assert sorted(delivered) == [b'a', b'c', b'd']
    assert stub_writer.invocations[:3] == [[b'a', b'boom', b'c', b'd'], [b'a', b'boom'], [b'a']]
    assert sum(batch == [b'boom'] for batch in stub_writer.invocations) == 1 + poller.source.max_retry_attempts
    (failure,) = _failure_records(stack, poller)
    assert failure['requestContext']['condition'] == 'RetryAttemptsExhausted'
    assert failure['responseContext']['functionError'] == 'Unhandled'
    assert failure['KinesisBatchInfo']['batchSize'] == 1
    payload = json.loads(failure['payload'])
    assert base64.b64decode(payload['Records'][0]['kinesis']['data']) == b'boom'
    assert payload['Records'][0]['eventSource'] == 'aws:kinesis'


# ---- moto fixes -------------------------------------------------------------------------------------


def test_failed_transaction_writes_nothing(stack: LocalStack) -> None:
    dynamodb = stack.client('dynamodb')
    events, counters = stack.name_of('EventsTable'), stack.name_of('CountersTable')
    existing, new = f'tx#{uuid.uuid4()}', f'tx#{uuid.uuid4()}'
    dynamodb.put_item(TableName=events, Item={'pk': {'S': existing}})
    counter_key = {'project_id': {'S': 'tx-test'}, 'counter': {'S': 'total'}}

    with pytest.raises(ClientError, match='TransactionCanceled'):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    'Put': {
                        'TableName': events,
                        'Item': {'pk': {'S': new}},
                        'ConditionExpression': 'attribute_not_exists(pk)',
                    }
                },
                {
                    'Update': {
                        'TableName': counters,
                        'Key': counter_key,
                        'UpdateExpression': 'ADD events :one',
                        'ExpressionAttributeValues': {':one': {'N': '1'}},
                    }
                },
                {
                    'Put': {
                        'TableName': events,
                        'Item': {'pk': {'S': existing}},
                        'ConditionExpression': 'attribute_not_exists(pk)',
                    }
                },
            ]
        )

    assert 'Item' not in dynamodb.get_item(TableName=events, Key={'pk': {'S': new}})
    assert 'Item' not in dynamodb.get_item(TableName=counters, Key=counter_key)
    assert 'Item' in dynamodb.get_item(TableName=events, Key={'pk': {'S': existing}})


def test_sequence_numbers_differ_between_shards(stack: LocalStack) -> None:
    kinesis = stack.client('kinesis')
    stream = f'seq-test-{uuid.uuid4().hex[:8]}'
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    hash_keys = ['0', str(2**127 + 1)]

    puts = [kinesis.put_record(StreamName=stream, Data=b'x', PartitionKey='k', ExplicitHashKey=h) for h in hash_keys]

    assert {put['ShardId'] for put in puts} == {'shardId-000000000000', 'shardId-000000000001'}
    assert len({put['SequenceNumber'] for put in puts}) == 2
    assert all(len(put['SequenceNumber']) == 56 for put in puts)


def test_records_older_than_the_streams_retention_are_dropped_when_another_arrives(stack: LocalStack) -> None:
    kinesis = stack.client('kinesis')
    stream = f'retention-test-{uuid.uuid4().hex[:8]}'
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.put_record(StreamName=stream, Data=b'old', PartitionKey='k')
    (shard,) = kinesis_backends[ACCOUNT_ID][REGION].streams[stream].shards.values()
    (old,) = shard.records.values()
    old.created_at -= 24 * 3600 + 1  # the stream's default retention, and a second

    kinesis.put_record(StreamName=stream, Data=b'new', PartitionKey='k')

    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId='shardId-000000000000', ShardIteratorType='TRIM_HORIZON'
    )['ShardIterator']
    assert [record['Data'] for record in kinesis.get_records(ShardIterator=iterator)['Records']] == [b'new']


class _WatchedLock:
    """A lock that sets `waiting` when a caller finds it held and has to wait for it."""

    def __init__(self, waiting: threading.Event) -> None:
        self._lock = threading.Lock()
        self._waiting = waiting

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._waiting.set()
            self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def test_two_frontends_in_one_process_hand_moto_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's backends are per process, so two servers (two stacks in one test process) share them
    # The second request has come when it waits for moto's lock, or (were moto not serialised) when it is in moto.
    second_came = threading.Event()
    monkeypatch.setattr(faults, '_MOTO_LOCK', _WatchedLock(second_came))
    inside, overlaps, first_held = [], [], []
    first_entered = threading.Event()

    def moto(environ, start_response):
        overlaps.append(len(inside))
        if inside:
            second_came.set()
        inside.append(1)
        first_entered.set()
        if len(overlaps) == 1:  # the first request stays in moto until the second has come: the overlap is certain
            first_held.append(second_came.wait(10))
        inside.pop()
        start_response('200 OK', [])
        return [b'{}']

    frontends = [AwsFrontend(moto, KinesisFaults()) for _ in range(2)]
    environ = {'HTTP_X_AMZ_TARGET': 'DynamoDB_20120810.TransactWriteItems'}
    first = threading.Thread(target=frontends[0], args=(environ, lambda *a: None))
    first.start()
    assert first_entered.wait(10)
    frontends[1](environ, lambda *a: None)
    first.join()

    assert first_held == [True]
    assert overlaps == [0, 0]


# ---- the local query engine's memory -----------------------------------------------------------------
# DuckDBEngine (the layer's; the local stack's LocalLakeDuckDBEngine is one) keeps results for a plan resumed
# after "Continue wait", within a budget of values.


def _rows(engine: DuckDBEngine, count: int) -> str:
    return engine.start(f'SELECT i FROM range({count}) t(i)')


def test_results_handed_out_are_forgotten_oldest_first_beyond_the_engines_budget() -> None:
    engine = DuckDBEngine(lake_source='lake', kept_values=100)  # one 50-row result fits, with its 32 of overhead
    try:
        first = _rows(engine, 50)
        wait_for(engine, [first], timeout=10)
        second = _rows(engine, 50)
        wait_for(engine, [second], timeout=10)

        _rows(engine, 1)  # forgetting happens when an execution starts

        with pytest.raises(UnknownExecutionError):
            engine.poll(first)
        assert len(engine.poll(second).rows) == 50
    finally:
        engine.close()


def test_a_result_no_poll_has_had_is_kept_whatever_the_budget() -> None:
    engine = DuckDBEngine(lake_source='lake', workers=1, kept_values=0)
    try:
        unread = _rows(engine, 10)
        read = _rows(engine, 10)
        wait_for(engine, [read], timeout=10)  # one worker: the unread one finished first

        _rows(engine, 1)

        with pytest.raises(UnknownExecutionError):
            engine.poll(read)
        assert len(engine.poll(unread).rows) == 10
    finally:
        engine.close()


# ---- scheduler --------------------------------------------------------------------------------------


def test_schedules_come_from_the_template() -> None:
    template = Template.load(parameter_overrides={'LakeCompactionSchedule': 'rate(15 minutes)'})

    scheduled = {spec.logical_id: schedule for spec, schedule in template.scheduled}

    assert scheduled['CompactLakeFunction'].expression == 'rate(15 minutes)'
    assert scheduled['CompactLakeFunction'].enabled
    assert scheduled['CompactLakeFunction'].input is None


@pytest.mark.parametrize(
    ('expression', 'seconds'),
    [
        ('rate(1 minute)', 60),
        ('rate(15 minutes)', 900),
        ('rate(1 hour)', 3600),
        ('rate(2 days)', 172_800),
        ('rate(0 minutes)', None),
        ('cron(0 3 * * ? *)', None),
    ],
)
def test_rate_expressions(expression: str, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


WALL = datetime(2026, 12, 7, 14, 2, 30, tzinfo=UTC)


def _scheduler(*schedules: ScheduleSource) -> Scheduler:
    spec = FunctionSpec('Stub', 'tests.e2e.stub_scheduled', 'lambda_handler', 3, 128, {}, ())
    stub_scheduled.events.clear()
    registry = FunctionRegistry({'Stub': spec})
    return Scheduler([(spec, s) for s in schedules], registry, clock=lambda: 1000.0, wall_clock=lambda: WALL)


def test_a_rate_schedule_runs_one_period_after_the_start_and_then_every_period() -> None:
    scheduler = _scheduler(ScheduleSource('Tick', 'rate(5 minutes)', None, True))

    assert scheduler.run_due(1000.0 + 299) == []
    assert scheduler.run_due(1000.0 + 300) == [('Stub', {'runs': 1})]
    assert scheduler.run_due(1000.0 + 599) == []
    assert scheduler.run_due(1000.0 + 5000) == [('Stub', {'runs': 2})]  # late: once, no catching up

    (event, _) = stub_scheduled.events
    assert event['detail-type'] == 'Scheduled Event'
    assert event['source'] == 'aws.events'
    assert event['detail'] == {}


def test_a_cron_schedule_runs_at_its_next_matching_utc_minute() -> None:
    # 14:02:30 now: `15 0 * * ? *` next fires at 00:15 tomorrow, 10 h 12 min 30 s away
    scheduler = _scheduler(ScheduleSource('Nightly', 'cron(15 0 * * ? *)', None, True))
    away = (10 * 60 + 12) * 60 + 30

    assert scheduler.run_due(1000.0 + away - 1) == []
    assert scheduler.run_due(1000.0 + away) == [('Stub', {'runs': 1})]


def test_next_cron_time_reads_eventbridges_dialect() -> None:
    assert next_cron_time('0/5 * * * ? *', WALL) == datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    assert next_cron_time('0 9 ? * MON-FRI *', datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )


def test_fixed_input_disabled_and_cron_schedules() -> None:
    scheduler = _scheduler(
        ScheduleSource('Fixed', 'rate(1 minute)', {'project_id': '1'}, True),
        ScheduleSource('Off', 'rate(1 minute)', None, False),
        ScheduleSource('Nightly', 'cron(0 3 * * ? *)', {'nightly': True}, True),
    )

    assert scheduler.run_all() == [('Stub', {'runs': 1}), ('Stub', {'runs': 2})]
    assert stub_scheduled.events == [{'project_id': '1'}, {'nightly': True}]


def test_a_failing_run_is_reported_and_the_schedule_goes_on() -> None:
    scheduler = _scheduler(ScheduleSource('Fails', 'rate(1 minute)', {'fail': True}, True))

    assert scheduler.run_all() == [('Stub', {'errorType': 'RuntimeError', 'errorMessage': 'told to fail'})]
    assert scheduler.run_due(1000.0 + 10_000) == [
        ('Stub', {'errorType': 'RuntimeError', 'errorMessage': 'told to fail'})
    ]


def test_run_schedules_runs_every_scheduled_function_once_and_prints_what_each_did(
    stack: LocalStack, monkeypatch, capsys
):
    from local.__main__ import main

    monkeypatch.setenv('AWS_ENDPOINT_URL', stack.aws_endpoint)

    assert main(['run-schedules']) == 0

    printed = dict(line.split(': ', 1) for line in capsys.readouterr().out.splitlines())
    scheduled = {f'{spec.logical_id} [{s.expression}]' for spec, s in Template.load().scheduled if s.enabled}
    assert set(printed) == scheduled
    assert all(json.loads(result) for result in printed.values())
    assert json.loads(printed['RollUpUsageFunction [rate(5 minutes)]'])['skipped'] is False
