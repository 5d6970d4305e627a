"""Cold start: import time of each ingest handler module in a fresh interpreter.

Each figure is the median over several fresh `python -c` processes of the time the import statement itself takes
(the interpreter's own start is not in it). AWS clients, the user-agent parser and PyJWT are loaded on first use,
so the first request that needs them pays for them. Target: <= 300 ms.
"""

import statistics
import subprocess
import sys

from bench.common import ROOT
from local.template import Template

HANDLERS = {
    'track_event': 'TrackEventFunction',
    'track_batch': 'TrackBatchFunction',
    'get_stats': 'GetStatsFunction',
    'get_health': 'GetHealthFunction',
}
RUNS = 7
TIMED = """
import time
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""
# What every handler imports before any code of ours runs: the floor the target is set against.
LIBRARIES = """from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel
class Model(BaseModel):
    field: int"""


def import_ms(statement: str, function: str) -> float:
    # The function's own variables from template.yaml (the Globals among them), as Lambda sets them.
    env = {
        **Template.load().function(function).environment,
        'PYTHONPATH': f'{ROOT}:{ROOT}/layers/shared',
        'AWS_DEFAULT_REGION': 'us-east-1',
    }
    runs = [
        float(
            subprocess.run(
                [sys.executable, '-c', TIMED.format(statement=statement)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(RUNS)
    ]
    return statistics.median(runs)


def main() -> None:
    print(
        f'cold start: the libraries alone (Powertools logger, metrics, resolver; pydantic) {import_ms(LIBRARIES, "TrackEventFunction"):.0f} ms'
    )
    for name, function in HANDLERS.items():
        took = import_ms(f'import functions.{name}.app', function)
        print(f'cold start: import functions.{name}.app {took:.0f} ms (median of {RUNS}); target <= 300 ms')


if __name__ == '__main__':
    main()
