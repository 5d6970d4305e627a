"""Cold start: import time of each ingest handler module in a fresh interpreter.

Each figure is the median over several fresh `python -c` processes of the time the import statement itself takes
(the interpreter's own start is not in it). AWS clients, the user-agent parser and PyJWT are loaded on first use,
so the first request that needs them pays for them. Target: <= 300 ms.

Lambda cannot write bytecode to /var/task or /opt, so a cold start runs what the package ships: `make build`
compiles unchecked-hash .pyc files into it. The bench imports the same way, from a bytecode cache of its own
(PYTHONPYCACHEPREFIX) holding unchecked-hash .pyc files of the modules the handlers import, and once with bytecode
for the standard library only (the runtime's own), as `sam build` alone ships the functions.
"""

import statistics
import subprocess
import sys
import sysconfig
import tempfile

from bench.common import ROOT, RUNS
from local.template import Template

TEMPLATE = Template.load()
HANDLERS = ['TrackEventFunction', 'TrackBatchFunction', 'GetStatsFunction', 'GetHealthFunction']
STANDARD_LIBRARY = sysconfig.get_paths()['stdlib']
TIMED = """
import time
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""
# The source files of the modules an import statement loads (what must be compiled for it).
SOURCES = """
import sys
{statement}
print('\\n'.join(m.__file__ for m in list(sys.modules.values()) if (getattr(m, '__file__', None) or '').endswith('.py')))
"""
# What every handler imports before any code of ours runs: the floor the target is set against.
LIBRARIES = """from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel
class Model(BaseModel):
    field: int"""


def _environment(function: str, cache: str) -> dict[str, str]:
    # The function's own variables from template.yaml (the Globals among them), as Lambda sets them, and a
    # read-only bytecode cache of the bench's own.
    return {
        **TEMPLATE.function(function).environment,
        'PYTHONPATH': f'{ROOT}:{ROOT}/layers/shared',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'PYTHONPYCACHEPREFIX': cache,
        'PYTHONDONTWRITEBYTECODE': '1',
    }


def _run(code: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True).stdout


def _is_standard_library(path: str) -> bool:
    return path.startswith(STANDARD_LIBRARY) and 'site-packages' not in path


def _compile(statement: str, env: dict[str, str], packaged: bool) -> None:
    """Unchecked-hash .pyc files, in the cache of `env`, of the modules `statement` imports: the standard library's
    always (Lambda's runtime ships it compiled), the packaged code's only when `packaged` (as `make build` does)."""
    sources = [
        path
        for path in _run(SOURCES.format(statement=statement), env).splitlines()
        if packaged or _is_standard_library(path)
    ]
    subprocess.run(
        [sys.executable, '-m', 'compileall', '-q', '-f', '--invalidation-mode', 'unchecked-hash', *sources],
        env=env,  # compileall writes whatever PYTHONDONTWRITEBYTECODE says; it only stops the imports' own writes
        check=True,
        stdout=subprocess.DEVNULL,
    )


def import_ms(statement: str, env: dict[str, str]) -> float:
    return statistics.median(float(_run(TIMED.format(statement=statement), env)) for _ in range(RUNS))


def main() -> None:
    imports = {function: f'import {TEMPLATE.function(function).module}' for function in HANDLERS}
    with tempfile.TemporaryDirectory() as packaged_cache, tempfile.TemporaryDirectory() as runtime_cache:
        # Compiled once for every statement timed, as one build compiles all the code it ships.
        _compile('\n'.join([LIBRARIES, *imports.values()]), _environment(HANDLERS[0], packaged_cache), packaged=True)
        _compile(imports['TrackBatchFunction'], _environment('TrackBatchFunction', runtime_cache), packaged=False)

        libraries = import_ms(LIBRARIES, _environment(HANDLERS[0], packaged_cache))
        print(f'cold start: the libraries alone (Powertools logger, metrics, resolver; pydantic) {libraries:.0f} ms')
        for function, statement in imports.items():
            took = import_ms(statement, _environment(function, packaged_cache))
            print(f'cold start: {statement} {took:.0f} ms (median of {RUNS}); target <= 300 ms')
        without = import_ms(imports['TrackBatchFunction'], _environment('TrackBatchFunction', runtime_cache))
        print(
            f"cold start: {imports['TrackBatchFunction']} without the packaged code's bytecode "
            f'(what sam build alone ships) {without:.0f} ms'
        )


if __name__ == '__main__':
    main()
