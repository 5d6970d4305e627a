"""README.md tells the truth: each `curl` example of its bash blocks, run as written by bash against the local stack
holding the demo data, answers 2xx with JSON (HTML for /docs) that has what the example's output comment shows."""

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local import demo_data
from local.stack import LocalStack

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / 'README.md'
DEMO_EVENTS = 1500
DEMO_DAYS = 60
EXPORT_PATH = '/analytics/api/v1/events'
HTML_PATHS = {'/docs'}
DOCUMENTED_PATHS = {
    '/api/v1/analytics',
    '/api/v1/analytics/batch',
    '/api/v1/analytics/stats',
    '/api/v1/analytics/health',
    '/projects/1/product_analytics/request/load',
    '/cubejs-api/v1/load',
    EXPORT_PATH,
    '/analytics/api/v1/traffic/event-counts',
    '/openapi.json',
    '/docs',
}
PLACEHOLDER = '…'
FENCE = re.compile(r'^\s*```(\w*)\s*$')
ASSIGNMENT = re.compile(r'^([A-Za-z_]\w*)=')
STACK_VARIABLES = {'API', 'KEY'}
STATUS = re.compile(r'^HTTP (\d{3}) (.*)$', re.MULTILINE)
# The status goes to stderr because an example may pipe curl's output; the time limit keeps a hung call from
# hanging the suite.
CURL_WRAPPER = 'curl() { command curl --max-time 30 -w \'%{stderr}\\nHTTP %{http_code} %{content_type}\\n\' "$@"; }'
# The stack, the demo data and the README's shell dates (GNU `date -u -d '30 days ago' +%F`, `date -u +%F`) all
# read this moment, so no example depends on the day or the hour it runs: `date` counts from it, not from today.
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
DATE_WRAPPER = (
    'date() { local args=() at=; while (($#)); do case $1 in -d) at=$2; shift 2 ;; *) args+=("$1"); shift ;; esac; '
    f'done; command date "${{args[@]}}" -d "{NOW:%Y-%m-%d %H:%M:%S} UTC $at"; }}'
)


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    variables: tuple[str, ...]  # the README's assignments before it (START=...), as a reader's shell has them
    shown: str | None  # the output comment under the command, without its '#'

    @property
    def path(self) -> str:
        found = re.search(r'\$API(/[^"?\s]*)', self.command)
        return found.group(1) if found else ''


@dataclass(frozen=True)
class Answer:
    exit_code: int
    status: int
    content_type: str
    body: str


# ---- reading the README -------------------------------------------------------------------------------


def _bash_blocks(lines: list[str]) -> Iterator[list[tuple[int, str]]]:
    language: str | None = None
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence and language is None:
            language, block = fence.group(1), []
        elif fence:
            if language == 'bash':
                yield block
            language = None
        elif language is not None:
            block.append((number, line.strip()))


def _is_complete(command: str) -> bool:
    if command.endswith('\\'):
        return False
    try:
        shlex.split(command)
    except ValueError:  # a quote still open: the command goes on on the next line
        return False
    return True


def _statements(block: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each command, comment and blank line; a command's continued lines joined."""
    start, command = 0, ''
    for number, line in block:
        if command:
            command = f'{command[:-1]} {line}' if command.endswith('\\') else f'{command}\n{line}'
        elif line.startswith('#') or not line:
            yield number, line
            continue
        else:
            start, command = number, line
        if _is_complete(command):
            yield start, command
            command = ''


def _shown_output(comments: list[str]) -> str | None:
    """The first comment under a command, if it is an answer (`# {...`, `# <...`), with its indented continuation."""
    if not comments or not comments[0].startswith(('# {', '# <')):
        return None
    shown = [comments[0][2:]]
    for comment in comments[1:]:
        if not comment.startswith('#  '):
            break
        shown.append(comment[1:].strip())
    return ''.join(shown)


def readme_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    variables: list[str] = []
    for block in _bash_blocks(text.splitlines()):
        statements = list(_statements(block))
        for index, (line, text_) in enumerate(statements):
            assignment = ASSIGNMENT.match(text_)
            if assignment and assignment.group(1) not in STACK_VARIABLES:
                variables.append(text_)
            if not text_.startswith('curl '):
                continue
            comments = [following for _, following in statements[index + 1 :]]
            comments = comments[: next((i for i, c in enumerate(comments) if not c.startswith('#')), len(comments))]
            examples.append(Example(line, text_, tuple(variables), _shown_output(comments)))
    return examples


EXAMPLES = readme_examples(README.read_text())


# ---- reading an output comment ----------------------------------------------------------------------------


def shown_json(shown: str) -> Any:
    """The output comment as JSON: `…` for a value not shown becomes null, `, …` for more members or items goes."""
    text = re.sub(rf',\s*{PLACEHOLDER}(?=\s*[}}\]])', '', shown)
    text = text.replace('{' + PLACEHOLDER + '}', '{}').replace('[' + PLACEHOLDER + ']', '[]')
    text = re.sub(rf'(?<=[:\[,])\s*{PLACEHOLDER}', 'null', text)
    return json.loads(text)


def assert_shows(shown: Any, answer: Any, where: str = '$') -> None:
    """Every key shown is in the answer, every value shown is the answer's; null and `…` in a string stand for any."""
    if isinstance(shown, dict):
        assert isinstance(answer, dict), f'{where}: {answer!r} is not an object'
        for key, value in shown.items():
            assert key in answer, f'{where}: no {key!r} in {sorted(answer)}'
            assert_shows(value, answer[key], f'{where}.{key}')
    elif isinstance(shown, list):
        assert isinstance(answer, list), f'{where}: {answer!r} is not a list'
        assert len(answer) >= len(shown), f'{where}: {len(answer)} items, the README shows {len(shown)}'
        for index, (item, answered) in enumerate(zip(shown, answer, strict=False)):
            assert_shows(item, answered, f'{where}[{index}]')
    elif isinstance(shown, str) and PLACEHOLDER in shown:
        pattern = '.*'.join(re.escape(part) for part in shown.split(PLACEHOLDER))
        assert isinstance(answer, str) and re.fullmatch(pattern, answer), f'{where}: {answer!r} is not {shown!r}'
    elif shown is not None:
        assert answer == shown, f'{where}: {answer!r}, the README shows {shown!r}'


# ---- running an example -----------------------------------------------------------------------------------


def run_example(example: Example, stack: LocalStack, workdir: Path) -> Answer:
    script = '\n'.join(
        [
            'set -o pipefail',
            f'API={shlex.quote(stack.url)}',
            f'KEY={shlex.quote(stack.api_key)}',
            DATE_WRAPPER,
            *example.variables,
            CURL_WRAPPER,
            example.command,
        ]
    )
    done = subprocess.run(['bash', '-c', script], capture_output=True, text=True, timeout=60, cwd=workdir)
    statuses = STATUS.findall(done.stderr)
    assert statuses, f'curl wrote no status; stderr: {done.stderr!r}'
    status, content_type = statuses[-1]
    return Answer(done.returncode, int(status), content_type, done.stdout)


PINNED_NOW = NOW  # the module's stack runs on this clock (tests/e2e/conftest.py)


@pytest.fixture(scope='module')
def demo_stack(stack: LocalStack) -> LocalStack:
    """The stack as `python -m local run` leaves it: demo events written, then each scheduled function run once."""
    events = demo_data.generate(DEMO_EVENTS, days=DEMO_DAYS, now=NOW)
    assert demo_data.load(stack.url, stack.api_key, events) == len(events)
    stack.drain()
    stack.scheduler.run_all()
    return stack


def test_the_readme_has_an_example_of_every_documented_route() -> None:
    assert {example.path for example in EXAMPLES} >= DOCUMENTED_PATHS


@pytest.mark.parametrize('example', EXAMPLES, ids=lambda example: f'README.md:{example.line} {example.path}')
def test_readme_example_answers_as_shown(example: Example, demo_stack: LocalStack, tmp_path: Path) -> None:
    answer = run_example(example, demo_stack, tmp_path)

    assert answer.exit_code == 0, answer
    assert 200 <= answer.status < 300, answer
    if example.path in HTML_PATHS:
        assert answer.content_type.startswith('text/html'), answer.content_type
        if example.shown:
            assert example.shown in answer.body
        return
    body = json.loads(answer.body)
    if example.shown:
        assert_shows(shown_json(example.shown), body)
    if example.path == EXPORT_PATH:
        assert body['paging']['totalCount'] > 0
