"""The product against real Cube 1.7 on the same lake (issue 17): GitLab's dashboard queries, interleaved.

The peer is Cube 1.7.43's own packages on DuckDB (tools/cube-oracle, installed as `make test` installs it), with
the product's data model copied for Cube (local/cube_model.py: the same cubes without the product's
extensions) and configured as a skilled Cube user deploys it over a partitioned lake: each cube's `sql` prunes
the `dt` partitions of its scan with `FILTER_PARAMS` on its time dimensions, the derived cubes (Sessions) with the
same day of margin the product's compiler reads, and the users' history (`user_sessions`) is read from the same
user-session index files the product reads (the product also reads the range's own events beside them, so that
a day the rollup has not indexed yet counts). Each timed query is new to its Cube process (the warm-up runs it
with another limit), so Cube runs its SQL rather than answering from its in-memory result cache.

The lake is bench_cube_lake's (BENCH_LAKE_EVENTS events, default 10,000,000; the last 30 days of project 1); the
queries are its dashboard cases. Each round runs every query through Cube (one oracle process a round, every
query once to warm it, then timed) and then through the product; RUNS rounds (default 7), medians. Printed per
query:

- Cube: its whole `/v1/load` (gateway, SQL planner, orchestrator, DuckDB, result transform) and, of it, the time
  in DuckDB (the driver's query call);
- load(): the product's whole `load()` on its DuckDB engine (compile, run, wait, format);
- SQL: the product's compiled SQL alone on the same engine; hand: bench_cube_lake's hand-written SQL;
- Cube SQL: Cube's own SQL (with its parameters) run on the product's DuckDB, so that the comparison of the two
  compilers' SQL is not a comparison of two DuckDB builds (both versions are printed);
- ratios: load()/Cube (goal <= 1.0), SQL/Cube SQL on one DuckDB (goal <= 1.0), and the poll tax
  load() - (1.05 x SQL + 2 ms) (goal <= 0).

Run: `PYTHONPATH=. .venv/bin/python bench/bench_cube_peer.py` (BENCH_LAKE_EVENTS=1_000_000 for a quick look).
"""

import json
import re
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import yaml

from bench.bench_cube_lake import CASES, _fill, placeholders
from bench.common import ROOT, RUNS
from bench.lake_generator import CONFIGURED_EVENTS as EVENTS
from bench.lake_generator import CONFIGURED_LAKE_DIR as LAKE_DIR
from bench.lake_generator import MAIN_PROJECT, ensure_lake
from local.cube_model import cube_model_files
from local.cube_oracle import ORACLE, ORACLE_DIR, check_installed
from serverless_analytics.cube import load, plan_load
from serverless_analytics.cube.datamodel import MODEL_DIR
from serverless_analytics.engines import DuckDBEngine

# Each cube's own time dimensions, whose date filters bound its scan of the lake (the product's `dt_partition`).
PRUNED_BY = {
    'TrackedEvents': ('derivedTstamp', 'utcTime'),
    'Sessions': ('startAt',),
    'ReturningUsers': ('first_timestamp',),
}


def dt_filter(cube: str, member: str, margin_days: int) -> str:
    """Cube's FILTER_PARAMS over the hive `dt` partitions (DuckDB reads them as DATE), widened by the margin."""
    low = f'CAST(CAST({{a}} AS TIMESTAMPTZ) - INTERVAL {margin_days} DAY AS DATE)'
    high = f'CAST(CAST({{b}} AS TIMESTAMPTZ) + INTERVAL {margin_days} DAY AS DATE)'
    return f'FILTER_PARAMS.{cube}.{member}.filter(lambda a, b: f"dt >= {low} AND dt <= {high}")'


def pruning(cube: str, margin_days: int) -> str:
    filters = [dt_filter(cube, member, margin_days) for member in PRUNED_BY[cube]]
    return '{' + (filters[0] if len(filters) == 1 else f'FILTER_GROUP({", ".join(filters)})') + '}'


def margins() -> dict[str, int]:
    """Each cube's `dt_margin_days` in the product's model."""
    found = {}
    for path in MODEL_DIR.glob('*.yml'):
        for cube in yaml.safe_load(path.read_text()).get('cubes', []):
            found[cube['name']] = int(cube.get('dt_margin_days', 0))
    return found


def with_pruning(cube: dict, margin_days: int) -> dict:
    """The cube's SQL with its lake scan bounded by FILTER_PARAMS, as an expert writes it."""
    condition = pruning(cube['name'], margin_days)
    if 'sql_table' in cube:
        rest = {key: value for key, value in cube.items() if key != 'sql_table'}
        return {'name': cube['name'], 'sql': f'SELECT * FROM events WHERE {condition}', **rest}
    if not re.search(r'FROM events\b', cube['sql']):
        return cube  # reads no events (ReturningUsers: the user-session index alone)
    sql, count = re.subn(r'FROM events WHERE ', f'FROM events WHERE {condition} AND ', cube['sql'], count=1)
    if count != 1:
        raise ValueError(f'cube {cube["name"]}: no lake scan with a WHERE to bound')
    return {**cube, 'sql': sql}


def user_sessions_index(project: str) -> str:
    files = LAKE_DIR / 'usage' / f'project_id={project}' / 'user_sessions' / '*.parquet'
    return f"SELECT session_id, user_id, first_at FROM read_parquet('{files}')"


def write_peer_model(directory: Path) -> Path:
    cube_margins = margins()
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in cube_model_files(user_sessions=user_sessions_index(MAIN_PROJECT)).items():
        document = yaml.safe_load(text)
        document['cubes'] = [with_pruning(cube, cube_margins[cube['name']]) for cube in document['cubes']]
        (directory / name).write_text(yaml.safe_dump(document, sort_keys=False, width=1000))
    return directory


def lake_view(project: str) -> str:
    files = LAKE_DIR / 'events' / f'project_id={project}' / '*' / '*.parquet'
    return f"CREATE VIEW events AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)"


def cube_round(model: Path, queries: list[dict], work: Path) -> list[dict]:
    """One oracle process: every query once to warm it (the model's compile, DuckDB's file metadata) with a limit
    one lower, so that the timed run is not answered from Cube's in-memory result cache; then every query timed."""
    warm = [{**query, 'limit': query.get('limit', 10_000) - 1} for query in queries]
    lines = [{'id': f'w{index}', 'query': query} for index, query in enumerate(warm)]
    lines += [{'id': f't{index}', 'query': query} for index, query in enumerate(queries)]
    path = work / 'queries.jsonl'
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    command = ['node', str(ORACLE), '--model', str(model), '--table-sql', lake_view(MAIN_PROJECT), '--timing']
    done = _oracle_run([*command, '--queries', str(path)], work)
    answers = {answer['id']: answer for answer in map(json.loads, done.stdout.splitlines())}
    timed = [answers[f't{index}'] for index in range(len(queries))]
    failed = [answer['error'] for answer in timed if 'error' in answer]
    if failed:
        raise RuntimeError(f'Cube refused a dashboard query: {failed[0]}')
    return timed


# A round takes Cube about a minute on the 10M-event lake; one that runs far longer has hung.
ORACLE_ROUND_SECONDS = 600


def _oracle_run(command: list[str], work: Path, attempts: int = 3) -> subprocess.CompletedProcess:
    """The oracle's run; again when its process crashes or hangs (Cube's node DuckDB build has segfaulted now and
    then on this lake, one round in a few dozen, and once sat idle for 13 minutes: the round is then measured
    again, and said)."""
    last_error = ''
    for attempt in range(1, attempts + 1):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, check=False, cwd=work, timeout=ORACLE_ROUND_SECONDS
            )
        except subprocess.TimeoutExpired:
            print(f'(the Cube oracle hung on attempt {attempt}; the round runs again)', flush=True)
            last_error = f'no answer in {ORACLE_ROUND_SECONDS} s'
            continue
        if done.returncode == 0:
            return done
        print(f'(the Cube oracle exited {done.returncode} on attempt {attempt}; the round runs again)', flush=True)
        last_error = done.stderr[-2000:]
    raise RuntimeError(f'the Cube oracle failed {attempts} times: {last_error}')


def seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def product_round(queries: list[dict], hand: list[str], cube_sql: list[list], engine: DuckDBEngine, now) -> list[dict]:
    figures = []
    for query, hand_sql, (sql_text, params) in zip(queries, hand, cube_sql, strict=True):
        compiled = plan_load(query, MAIN_PROJECT, engine, now, 'multi').statements[0]
        figures.append(
            {
                'load': seconds(lambda q=query: load(q, MAIN_PROJECT, engine, now, 'multi')),
                'sql': seconds(lambda s=compiled: engine.execute(s)),
                'hand': seconds(lambda s=hand_sql: engine.execute(s)),
                'cube_sql': seconds(lambda s=sql_text, p=params: engine.connection.execute(s, p).fetchall()),
            }
        )
    return figures


def node_duckdb_version() -> str:
    bindings = ORACLE_DIR / 'node_modules' / '@duckdb' / 'node-bindings' / 'package.json'
    api = ORACLE_DIR / 'node_modules' / '@duckdb' / 'node-api' / 'package.json'
    found = [json.loads(p.read_text())['version'] for p in (api, bindings) if p.is_file()]
    return ' / bindings '.join(found) or 'unknown'


def main() -> None:
    check_installed()
    lake, _ = ensure_lake(LAKE_DIR, EVENTS)
    engine = DuckDBEngine(str(LAKE_DIR))
    engine.connection.execute(lake_view(MAIN_PROJECT))
    values = placeholders(lake, engine)
    queries = [_fill(case.query, values) for case in CASES]
    hand = [case.hand_sql.format(**values) for case in CASES]
    print(f'lake: {EVENTS:,} events, dashboard days {values["first"]}..{values["last"]}, project {MAIN_PROJECT}')
    print(f'DuckDB: product {duckdb.__version__}; Cube (node) {node_duckdb_version()}; {RUNS} interleaved rounds')
    cube_times: dict[int, list[dict]] = defaultdict(list)
    ours: dict[int, list[dict]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as directory:
        model = write_peer_model(Path(directory) / 'model')
        for round_number in range(RUNS + 1):
            answers = cube_round(model, queries, Path(directory))
            figures = product_round(queries, hand, [answer['sql'] for answer in answers], engine, lake.now)
            if round_number == 0:
                continue  # warm-up round: file caches, the product's first compile
            for index, (answer, figure) in enumerate(zip(answers, figures, strict=True)):
                cube_times[index].append(
                    {'e2e': answer['timing']['loadMs'] / 1000, 'db': sum(answer['timing']['dbMs']) / 1000}
                )
                ours[index].append(figure)
    print_table(cube_times, ours)
    engine.close()


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def print_table(cube_times: dict[int, list[dict]], ours: dict[int, list[dict]]) -> None:
    print(
        f'{"query":<46} {"Cube":>7} {"Cube db":>7} {"load()":>7} {"SQL":>7} {"hand":>7} {"CubeSQL":>7} '
        f'{"load/Cube":>9} {"SQL/CubeSQL":>11} {"poll tax":>9}'
    )
    load_ratios, sql_ratios = [], []
    for index, case in enumerate(CASES):
        cube_e2e, cube_db = _median(cube_times[index], 'e2e'), _median(cube_times[index], 'db')
        f = {key: _median(ours[index], key) for key in ('load', 'sql', 'hand', 'cube_sql')}
        load_ratios.append(f['load'] / cube_e2e)
        sql_ratios.append(f['sql'] / f['cube_sql'])
        tax = f['load'] - (1.05 * f['sql'] + 0.002)
        print(
            f'{case.name:<46} {cube_e2e * 1000:6.1f}  {cube_db * 1000:6.1f}  {f["load"] * 1000:6.1f}  '
            f'{f["sql"] * 1000:6.1f}  {f["hand"] * 1000:6.1f}  {f["cube_sql"] * 1000:6.1f}  '
            f'{load_ratios[-1]:8.2f}x {sql_ratios[-1]:10.2f}x {tax * 1000:+8.1f}'
        )
    print(
        f'(ms, medians; goals: load/Cube <= 1.0 on every query, SQL/CubeSQL <= 1.0, poll tax <= 0) '
        f'worst load/Cube {max(load_ratios):.2f}x, worst SQL/CubeSQL {max(sql_ratios):.2f}x'
    )


if __name__ == '__main__':
    print(f'(from {ROOT})')
    main()
