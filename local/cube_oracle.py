"""Runs the Cube oracle (tools/cube-oracle: Cube 1.7.43's own packages over DuckDB, installed in .local-data by the
Makefile) in batch mode and hands back its answers by id: the reference of tests/cube_parity and the peer of
bench/bench_cube_peer."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORACLE_DIR = ROOT / '.local-data' / 'cube-oracle'
ORACLE = ORACLE_DIR / 'oracle.js'
INSTALL_HINT = 'run `make .local-data/cube-oracle/.installed` (make test does it): it installs tools/cube-oracle'
TIMEOUT_SECONDS = 600


class OracleError(RuntimeError):
    pass


def check_installed() -> None:
    if shutil.which('node') is None:
        raise OracleError(f'node is not on PATH; the Cube parity test needs Node.js >= 20 ({INSTALL_HINT})')
    if not ORACLE.is_file() or not (ORACLE_DIR / 'node_modules' / '@cubejs-backend' / 'server-core').is_dir():
        raise OracleError(f'the Cube oracle is not installed at {ORACLE_DIR}: {INSTALL_HINT}')


def run_batch(model_dir: Path, table_sql: str, lines: list[dict[str, Any]], work_dir: Path) -> dict[str, dict]:
    """`lines`: `{"id", "query", "now"?, "timezone"?}` each; the oracle's answer by id."""
    check_installed()
    queries = work_dir / 'queries.jsonl'
    queries.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    command = ['node', str(ORACLE), '--model', str(model_dir), '--table-sql', table_sql, '--queries', str(queries)]
    # Output to files, not pipes: node writes files synchronously, while a pipe's pending writes are lost when the
    # oracle exits (long lines were cut at 128 KiB).
    out, err = work_dir / 'oracle.stdout', work_dir / 'oracle.stderr'
    with out.open('w') as stdout, err.open('w') as stderr:
        done = subprocess.run(command, stdout=stdout, stderr=stderr, timeout=TIMEOUT_SECONDS, cwd=work_dir, check=False)
    if done.returncode != 0:
        raise OracleError(f'the Cube oracle failed (exit {done.returncode}):\n{err.read_text()[-4000:]}')
    answers = {}
    for text in out.read_text().splitlines():
        answer = json.loads(text)
        answers[answer.pop('id')] = answer
    missing = [line['id'] for line in lines if line['id'] not in answers]
    if missing:
        raise OracleError(f'the Cube oracle gave no answer for {missing[:10]} ({len(missing)} in all)')
    return answers
