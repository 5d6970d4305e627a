"""The real Cube JS client (`@cubejs-client/core` from npm) against the local stack's query API.

The events are sent here through the ingestion API and drained; `tests/node/cube_client.test.mjs` then loads,
pivots, dry-runs and reads meta through the client, on GitLab's proxy path and on Cube's own path, and compares
every value with what it computes itself from the same events (spec §6.5 and §8). The second run makes every
query outlast the stack's wait budget, so each load goes through Cube's "Continue wait" and the client's retry.
"""

import json
import os
import random
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from local import demo_data
from local.stack import LOCAL_PROJECT_ID, LocalStack
from local.template import REPO_ROOT
from tests.e2e.conftest import PARAMETERS
from tests.e2e.support import STATS, bearer

pytestmark = pytest.mark.e2e

NODE_DIR = REPO_ROOT / 'tests' / 'node'
NODE_TEST = 'cube_client.test.mjs'
NODE_MAJOR = 20
NODE_TIMEOUT_SECONDS = 300

# A week of backfilled events with one day without any (the charts must show it as 0).
FIRST_DAY = date(2024, 3, 4)
DAYS = 7
GAP_DAY = date(2024, 3, 7)
PAGES = ['/', '/pricing', '/docs/start', '/blog/launch']
NAMES = [('page_view', 'page_view'), ('page_view', 'page_view'), ('link_click', 'user_action'), ('signup', 'auth')]
USERS = ['u1', 'u2', 'u3', 'u4', 'u5', None]


def known_events(seed: int = 20240304) -> list[dict[str, Any]]:
    """Events with every field the client's queries group by; sessions never cross midnight (one per user,
    day and quarter of the day), so per-day session counts are unambiguous."""
    rng = random.Random(seed)
    events = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        if day == GAP_DAY:
            continue
        for _ in range(rng.randint(6, 18)):
            name, category = rng.choice(NAMES)
            user = rng.choice(USERS)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=rng.randrange(86400))
            event = {
                'event_id': str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                'event_name': name,
                'category': category,
                'timestamp': moment.isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
                'page_url': f'https://app.example.com{rng.choice(PAGES)}',
                'session_id': f's-{user or "anon"}-{day:%m%d}-{moment.hour // 6}',
            }
            if user is not None:
                event['user'] = {'id': user}
            events.append(event)
    return events


def _node() -> str:
    node = shutil.which('node')
    if node is None:
        pytest.fail(
            f'node is not on PATH: this test runs @cubejs-client/core with node >= {NODE_MAJOR} (and npm to install it)'
        )
    version = subprocess.run([node, '--version'], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip('v').split('.')[0]) < NODE_MAJOR:
        pytest.fail(f'node {version} is too old: @cubejs-client/core needs node >= {NODE_MAJOR}')
    return node


def _install_client() -> None:
    """`npm ci` from the committed lock file when tests/node/node_modules is missing."""
    installed = ('@cubejs-client/core', 'date-fns')
    if all((NODE_DIR / 'node_modules' / package / 'package.json').exists() for package in installed):
        return
    npm = shutil.which('npm')
    if npm is None:
        pytest.fail(
            f'tests/node/node_modules is missing and npm is not on PATH to install it (cd {NODE_DIR} && npm ci)'
        )
    installed = subprocess.run(
        [npm, 'ci', '--no-audit', '--no-fund'], cwd=NODE_DIR, capture_output=True, text=True, timeout=600
    )
    if installed.returncode != 0:
        pytest.fail(f'npm ci failed in {NODE_DIR}:\n{installed.stdout}\n{installed.stderr}')


@pytest.fixture(scope='module')
def node() -> str:
    executable = _node()
    _install_client()
    return executable


@pytest.fixture(scope='module')
def loaded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path]]:
    """The stack (project 1's key, free ports) holding exactly `known_events()`, and the file describing them."""
    events = known_events()
    with LocalStack(moto_port=0, api_port=0, parameter_overrides=PARAMETERS) as stack:
        assert demo_data.load(stack.url, stack.api_key, events) == len(events)
        stack.drain()
        figures = requests.get(stack.url + STATS, headers=bearer(stack.api_key), timeout=30).json()
        assert figures['total_events'] == len(events), figures

        described = tmp_path_factory.mktemp('cube-client') / 'events.json'
        described.write_text(
            json.dumps(
                {
                    'events': events,
                    'firstDay': FIRST_DAY.isoformat(),
                    'lastDay': (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat(),
                    'gapDays': [GAP_DAY.isoformat()],
                }
            )
        )
        yield stack, described


def run_node_tests(node: str, stack: LocalStack, events_file: Path, **extra: str) -> None:
    environment = {
        **os.environ,
        'CUBE_API_URL': stack.url,
        'CUBE_API_KEY': stack.api_key,
        'CUBE_PROJECT_ID': LOCAL_PROJECT_ID,
        'CUBE_EVENTS_FILE': str(events_file),
        'TZ': 'UTC',
        'NO_COLOR': '1',
        **extra,
    }
    passed = run_node_test(node, NODE_TEST, environment)
    assert passed > 0, f'node --test {NODE_TEST} ran no test'


def run_node_test(node: str, test_file: str, environment: dict[str, str]) -> int:
    """Run one `node --test` file of tests/node; its passed count, after failing the test on any failure."""
    try:
        finished = subprocess.run(
            [node, '--test', '--test-force-exit', '--test-reporter=spec', test_file],
            cwd=NODE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f'node --test ran over {NODE_TIMEOUT_SECONDS} s:\n{expired.stdout}\n{expired.stderr}')
    output = f'{finished.stdout}\n{finished.stderr}'
    assert finished.returncode == 0, f'node --test {test_file} exited {finished.returncode}:\n{output}'
    passed = re.search(r'^. pass (\d+)$', finished.stdout, re.MULTILINE)  # the spec reporter's summary
    assert passed, f'node --test {test_file} printed no summary:\n{output}'
    return int(passed[1])


def test_cube_js_client_reads_the_ingested_events(node: str, loaded_stack: tuple[LocalStack, Path]) -> None:
    stack, events_file = loaded_stack

    run_node_tests(node, stack, events_file)


def test_cube_js_client_retries_continue_wait_transparently(
    node: str, loaded_stack: tuple[LocalStack, Path], override_settings: Callable[..., None]
) -> None:
    stack, events_file = loaded_stack
    # The stack's handlers run in this process: every query now outlasts the wait, so every load answers
    # "Continue wait" first.
    override_settings(QUERY_WAIT_SECONDS='0.000001')
    waiting = requests.post(
        f'{stack.url}/cubejs-api/v1/load',
        json={'query': {'measures': ['TrackedEvents.count']}, 'queryType': 'multi'},
        headers={'Authorization': stack.api_key},
        timeout=30,
    )
    assert (waiting.status_code, waiting.json()) == (200, {'error': 'Continue wait'})

    run_node_tests(node, stack, events_file, CUBE_EXPECT_CONTINUE_WAIT='1')
