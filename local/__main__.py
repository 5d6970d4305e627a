"""`python -m local run | invoke | run-schedules | keys | openapi`: the Docker-free local stack and its tools."""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import EndpointConnectionError

from local import demo_data
from local.environment import add_code_paths, apply_stack_environment, refresh_handler_caches
from local.moto_server import LocalMotoServer, configured_port
from local.provision import provision
from local.runtime import LocalFunction
from local.scheduler import scheduled_event
from local.stack import LOCAL_PROJECT_ID, LocalStack, configured_api_key, create_local_key
from local.template import Template


def parameter_overrides() -> dict[str, str]:
    """`LOCAL_PARAMETER_OVERRIDES="StreamBatchingWindowSeconds=1 StreamBatchSize=100"`, like sam's option."""
    pairs = os.environ.get('LOCAL_PARAMETER_OVERRIDES', '').replace(',', ' ').split()
    return dict(pair.split('=', 1) for pair in pairs)


# ---- run -------------------------------------------------------------------------------------------


def run(_: argparse.Namespace) -> int:
    stack = LocalStack(parameter_overrides=parameter_overrides()).start()
    try:
        events = demo_data.generate(int(os.environ.get('DEMO_EVENTS', 5000)), days=int(os.environ.get('DEMO_DAYS', 60)))
        events += demo_data.coder_events(int(os.environ.get('DEMO_CODER_DAYS', 7)))
        print(f'Loading {len(events)} demo events through {stack.url}{demo_data.BATCH_PATH} ...', file=sys.stderr)
        queued = demo_data.load(stack.url, stack.api_key, events)
        stack.drain(timeout=600)
        # What the stack's schedules would have done by the time anyone queries the demo data (lake compaction).
        for function, result in stack.scheduler.run_all():
            print(f'{function}: {json.dumps(result, default=str)}', file=sys.stderr)
        _print_banner(stack, queued)
        _wait_for_interrupt()
    finally:
        stack.stop()
    return 0


def _print_banner(stack: LocalStack, queued: int) -> None:
    print(
        f"""
Local stack ready ({queued} demo events queued and written).
  API:          {stack.url}
  AWS endpoint: {stack.aws_endpoint}   (export AWS_ENDPOINT_URL={stack.aws_endpoint} to use the AWS CLI or boto3)
  API key:      {stack.api_key}   (project {LOCAL_PROJECT_ID}, all scopes)

  curl -s -H 'Authorization: Bearer {stack.api_key}' {stack.url}/api/v1/analytics/stats
  curl -s -X POST -H 'Authorization: Bearer {stack.api_key}' -H 'Content-Type: application/json' \\
       -d '{{"event_name":"signup","category":"user_action"}}' {stack.url}/api/v1/analytics

Press Ctrl-C to stop.""",
        flush=True,
    )


def _wait_for_interrupt() -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()


# ---- invoke ----------------------------------------------------------------------------------------


def invoke(arguments: argparse.Namespace) -> int:
    template = Template.load(parameter_overrides=parameter_overrides())
    spec = template.function(arguments.function)
    event = json.loads(Path(arguments.event).read_text()) if arguments.event else {}
    with _aws_endpoint(template) as (endpoint, standalone):
        apply_stack_environment(endpoint, template.functions.values(), template.layer_dirs)
        if standalone:  # a running stack has its key already
            create_local_key(configured_api_key())
        # Like `sam local invoke`: the function's logs on stderr, its result alone on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = LocalFunction(spec).invoke(event)
    print(json.dumps(result, indent=2, default=str))
    return 0


@contextlib.contextmanager
def _aws_endpoint(template: Template) -> Iterator[tuple[str, bool]]:
    """The running stack's endpoint when AWS_ENDPOINT_URL is set, else a throwaway moto provisioned from the template."""
    if os.environ.get('AWS_ENDPOINT_URL'):
        yield os.environ['AWS_ENDPOINT_URL'], False
        return
    server = LocalMotoServer(port=0)
    server.start()
    try:
        provision(template, server.endpoint)
        yield server.endpoint, True
    finally:
        server.stop()


# ---- keys ------------------------------------------------------------------------------------------


def keys(arguments: argparse.Namespace) -> int:
    _point_at_key_table(arguments)
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic import api_keys
    from serverless_analytics.models.api_key import Scope

    settings = get_settings()
    if arguments.keys_command == 'create':
        scopes = [Scope(scope.strip()) for scope in arguments.scopes.split(',') if scope.strip()]
        key, record = api_keys.create_key(settings, arguments.project, scopes, arguments.name)
        print(json.dumps({'key': key, **record.model_dump(mode='json', exclude_none=True)}, indent=2))
        print('Store the key now: only its hash is kept.', file=sys.stderr)
    elif arguments.keys_command == 'revoke':
        if not api_keys.revoke_key(settings, arguments.key_id):
            print(f'No key {arguments.key_id}', file=sys.stderr)
            return 1
        print(f'Revoked {arguments.key_id}')
    else:
        for record in api_keys.list_keys(settings):
            state = f'revoked {record.revoked_at:%Y-%m-%d}' if record.revoked_at else 'active'
            scopes = ','.join(record.scopes)
            print(f'{record.key_id}  project={record.project_id}  scopes={scopes}  name={record.name!r}  {state}')
    return 0


def _point_at_key_table(arguments: argparse.Namespace) -> None:
    """A deployed stack with --table/--stack (boto3's own credentials); otherwise the running local stack."""
    template = Template.load()
    table = arguments.table or (_stack_output(arguments.stack, 'ApiKeysTableName') if arguments.stack else None)
    if table:
        add_code_paths(template.layer_dirs)
        os.environ['API_KEYS_TABLE'] = table
        refresh_handler_caches()
    else:
        endpoint = os.environ.get('AWS_ENDPOINT_URL') or f'http://127.0.0.1:{configured_port()}'
        apply_stack_environment(endpoint, template.functions.values(), template.layer_dirs)


def _stack_output(stack_name: str, output: str) -> str:
    import boto3

    stack = boto3.client('cloudformation').describe_stacks(StackName=stack_name)['Stacks'][0]
    return next(o['OutputValue'] for o in stack.get('Outputs', []) if o['OutputKey'] == output)


# ---- run-schedules ---------------------------------------------------------------------------------


def run_schedules(_: argparse.Namespace) -> int:
    """Every enabled scheduled function of the template, once, now, against the running stack (or
    AWS_ENDPOINT_URL), each with the event EventBridge would send; prints what each did."""
    template = Template.load(parameter_overrides=parameter_overrides())
    endpoint = os.environ.get('AWS_ENDPOINT_URL') or f'http://127.0.0.1:{configured_port()}'
    apply_stack_environment(endpoint, template.functions.values(), template.layer_dirs)
    for spec, schedule in template.scheduled:
        if not schedule.enabled:
            continue
        event = scheduled_event(spec, schedule, datetime.now(UTC))
        with contextlib.redirect_stdout(sys.stderr):  # the functions' logs on stderr, the results alone on stdout
            result = LocalFunction(spec).invoke(event)
        print(f'{spec.logical_id} [{schedule.expression}]: {json.dumps(result, default=str)}', flush=True)
    return 0


# ---- openapi ---------------------------------------------------------------------------------------


def openapi(_: argparse.Namespace) -> int:
    from local import openapi as document

    print(f'Wrote {document.write()}')
    return 0


# ---- CLI -------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog='python -m local', description=__doc__)
    commands = root.add_subparsers(dest='command', required=True)
    commands.add_parser('run', help='start the stack, load demo data and serve until Ctrl-C').set_defaults(func=run)

    invoke_parser = commands.add_parser('invoke', help='run one function of template.yaml, like sam local invoke')
    invoke_parser.add_argument('function', help='logical id in template.yaml, e.g. TrackEventFunction')
    invoke_parser.add_argument('--event', '-e', help='JSON trigger event, e.g. events/track_event.json')
    invoke_parser.set_defaults(func=invoke)

    keys_parser = commands.add_parser('keys', help='create, revoke and list API keys')
    keys_parser.add_argument('--table', help='API keys table of a deployed stack')
    keys_parser.add_argument('--stack', help='deployed stack whose ApiKeysTableName output names the table')
    key_commands = keys_parser.add_subparsers(dest='keys_command', required=True)
    create = key_commands.add_parser('create')
    create.add_argument('--project', required=True)
    create.add_argument('--scopes', default='ingest,read')
    create.add_argument('--name', default='')
    revoke = key_commands.add_parser('revoke')
    revoke.add_argument('key_id')
    key_commands.add_parser('list')
    keys_parser.set_defaults(func=keys)

    commands.add_parser(
        'run-schedules', help='run every scheduled function of the template once, now, against the running stack'
    ).set_defaults(func=run_schedules)
    commands.add_parser(
        'openapi', help="write the layer's OpenAPI document anew from the handlers' routes and models"
    ).set_defaults(func=openapi)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get('LOCAL_LOG_LEVEL', 'WARNING'), format='%(levelname)s %(name)s: %(message)s'
    )
    arguments = parser().parse_args(argv)
    try:
        return arguments.func(arguments)
    except EndpointConnectionError as error:
        print(f'{error}. Is the local stack running (`make run`)? For a deployed stack pass --table.', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
