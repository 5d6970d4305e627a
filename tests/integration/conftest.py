"""Handlers against a real AWS API endpoint: moto in server mode, provisioned from template.yaml."""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local.environment import apply_stack_environment, local_client
from local.moto_server import LocalMotoServer
from local.poller import kinesis_trigger_event
from local.provision import provision
from local.stack import create_local_key
from local.template import Template
from tests import aws_reads
from tests.conftest import load_event

LOCAL_KEY = 'local-dev-key'  # the key the files in events/ send
TEMPLATE = Template.load()  # read once: parsing it takes longer than most of these tests


class Aws:
    """The provisioned endpoint, with the physical names of the template's resources."""

    def __init__(self, template: Template, moto: LocalMotoServer) -> None:
        self.template = template
        self.moto = moto
        self.endpoint = moto.endpoint

    def client(self, service: str) -> Any:
        return local_client(service, self.endpoint)

    def name(self, logical_id: str) -> str:
        return self.template.physical_name(logical_id)


@pytest.fixture(scope='session')
def moto_server() -> Iterator[LocalMotoServer]:
    server = LocalMotoServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server: LocalMotoServer) -> Iterator[Aws]:
    """A freshly provisioned stack per test, and the handlers' environment pointed at it."""
    moto_server.reset()
    moto_server.kinesis_faults.clear()
    provision(TEMPLATE, moto_server.endpoint)
    environment = apply_stack_environment(moto_server.endpoint, TEMPLATE.functions.values(), TEMPLATE.layer_dirs)
    create_local_key(LOCAL_KEY)
    yield Aws(TEMPLATE, moto_server)
    environment.restore()


def invoke(handler: Any, event: dict[str, Any], context: Any) -> tuple[int, Any]:
    """Call an HTTP handler; returns its status code and parsed JSON body."""
    return parsed(handler(event, context))


def parsed(response: dict[str, Any]) -> tuple[int, Any]:
    """An HTTP handler's answer as its status code and parsed JSON body."""
    return int(response['statusCode']), json.loads(response['body'])


def with_headers(name: str, **headers: str) -> dict[str, Any]:
    event = load_event(name)
    event['headers'] = {k: v for k, v in {**event['headers'], **headers}.items() if v is not None}
    return event


def with_body(name: str, body: Any) -> dict[str, Any]:
    event = load_event(name)
    event['body'] = body if isinstance(body, str) else json.dumps(body)
    return event


def stream_records(aws: Aws) -> list[dict[str, Any]]:
    """Every record on the events stream, oldest first, as the ingest functions put them."""
    return aws_reads.stream_records(aws.client('kinesis'), aws.name('EventsStream'))


def counters(aws: Aws, project_id: str = '1') -> dict[str, dict[str, Any]]:
    return aws_reads.counters(aws.client('dynamodb'), aws.name('CountersTable'), project_id)


def kinesis_trigger(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The stream writer's trigger event for records read from the stream, as the event source mapping builds it."""
    return kinesis_trigger_event(TEMPLATE.stream_writer, 'shardId-000000000000', records)


def directory_trigger(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The user directory consumer's trigger event for records read from the stream."""
    return kinesis_trigger_event(TEMPLATE.function('UpdateUserDirectoryFunction'), 'shardId-000000000000', records)


def ingest(aws: Aws, events: list[dict[str, Any]], context: Any, key: str = LOCAL_KEY) -> None:
    """Send events through the batch handler and run both consumers of the stream (the writer, the user directory)
    over what reached the stream."""
    from functions.track_batch.app import lambda_handler as batch_handler
    from functions.update_user_directory.app import lambda_handler as directory_handler
    from functions.write_events.app import lambda_handler as writer_handler

    already = {r['SequenceNumber'] for r in stream_records(aws)}
    for start in range(0, len(events), 100):
        event = with_headers('track_batch', authorization=f'Bearer {key}')
        event['body'] = json.dumps({'events': events[start : start + 100]})
        status, body = invoke(batch_handler, event, context)
        assert (status, body['events_failed']) == (200, 0), body
    fresh = [r for r in stream_records(aws) if r['SequenceNumber'] not in already]
    assert writer_handler(kinesis_trigger(fresh), context) == {'batchItemFailures': []}
    assert directory_handler(directory_trigger(fresh), context) == {'batchItemFailures': []}


def ft_error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    """A Fluid Topics-family answer: the status and `{"error": {"code", "message"}}`."""
    return code, {'error': {'code': code, 'message': message}}


def assert_ft_credentials_checked(handler: Any, sample: str, context: Any) -> None:
    """No key, a wrong key and a key without the read scope, on a route of the export family."""
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import create_key
    from serverless_analytics.models.api_key import Scope

    no_key = handler(with_headers(sample, authorization=None), context)
    assert parsed(no_key) == ft_error(401, 'Not authenticated')
    assert no_key['headers']['WWW-Authenticate'] == 'Bearer'
    wrong = with_headers(sample, authorization='Bearer wrong')
    assert invoke(handler, wrong, context) == ft_error(401, 'Invalid API key')
    key, _ = create_key(get_settings(), '1', [Scope.INGEST], 'tracker')
    ingest_only = with_headers(sample, authorization=f'Bearer {key}')
    assert invoke(handler, ingest_only, context) == ft_error(403, "API key lacks the 'read' scope")


def run_usage_rollup(event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The usage rollup's handler with the scheduled event (or `event`), in a context of its template timeout."""
    from functions.roll_up_usage.app import lambda_handler as rollup_handler
    from local.runtime import LocalFunction

    context = LocalFunction(TEMPLATE.function('RollUpUsageFunction')).context()
    return rollup_handler(event or load_event('roll_up_usage'), context)


@pytest.fixture
def rolled_up(aws: Aws, lambda_context: Any, pinned_now: Any, telemetry: Any) -> Any:
    """The module's `telemetry` ingested through the real handlers a little after its last event, then the usage
    rollup's scheduled run; the pinned time."""
    now = pinned_now(telemetry.end + timedelta(hours=1, minutes=20))
    ingest(aws, telemetry.events, lambda_context)
    assert run_usage_rollup()['days_recomputed'] >= 4
    return now
