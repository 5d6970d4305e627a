"""Regenerate expected.json: the answers of real Cube 1.7.43 (tools/cube-oracle) to cases.py on the seeded lake.

    PYTHONPATH=.:layers/shared .venv/bin/python -m tests.unit.serverless_analytics.cube.joins.regenerate

Needs Node.js and the oracle installed under .local-data/cube-oracle (or CUBE_ORACLE=<dir>); the tests read only
the JSON written here, so they run without node.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

from tests.unit.serverless_analytics.cube.joins.cases import CASES
from tests.unit.serverless_analytics.cube.joins.lake import NOW, PROJECT, write_test_lake

HERE = Path(__file__).parent
ORACLE = Path(os.environ.get('CUBE_ORACLE', Path(__file__).parents[5] / '.local-data' / 'cube-oracle'))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_test_lake(root)
        answers = _run_oracle(root)
    expected = [{'id': case_id, 'query': CASES[case_id], **_kept(answer)} for case_id, answer in answers.items()]
    (HERE / 'expected.json').write_text(json.dumps(expected, indent=1, sort_keys=True) + '\n')
    print(f'{len(expected)} answers written to {HERE / "expected.json"}')


def _run_oracle(root: Path) -> dict[str, dict]:
    queries = root / 'queries.jsonl'
    queries.write_text(''.join(json.dumps({'id': k, 'query': q}) + '\n' for k, q in CASES.items()))
    lake = f"read_parquet('{root}/events/project_id={PROJECT}/**/*.parquet', hive_partitioning=true)"
    command = [
        'node',
        str(ORACLE / 'oracle.js'),
        '--model',
        str(HERE / 'model'),
        '--table-sql',
        f'CREATE VIEW events AS SELECT * FROM {lake}',
        '--queries',
        str(queries),
        '--now',
        NOW.strftime('%Y-%m-%dT%H:%M:%SZ'),
    ]
    output = root / 'answers.jsonl'
    with output.open('w') as out:  # a file, not a pipe: node may exit before a pipe takes a long line
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.DEVNULL)
    answers = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    return {answer['id']: answer for answer in answers}


def _kept(answer: dict) -> dict:
    """What the tests compare: Cube's data, annotation and total, or its error."""
    if 'error' in answer:
        return {'error': answer['error'], 'status': answer.get('status')}
    kept = {'data': answer['data'], 'annotation': answer['annotation']}
    return kept | ({'total': answer['total']} if 'total' in answer else {})


if __name__ == '__main__':
    main()
