"""Session fixtures of the Cube parity test: the generated lake, the product's engine over it, Cube's answers to
every case (one oracle process, batch mode, the Cube copy of the product's model over the same lake), and the
verdict on every case (both answers, with the known differences applied)."""

import traceback
from pathlib import Path

import pytest

from local.cube_model import write_cube_model
from local.cube_oracle import run_batch
from serverless_analytics import clock
from serverless_analytics.engines import DuckDBEngine
from tests.cube_parity.cases import generate
from tests.cube_parity.compare import oracle_answer
from tests.cube_parity.known_differences import Context, Verdict, judge
from tests.cube_parity.lake import build_lake, cube_table_sql
from tests.cube_parity.product import ask_product, parse_now
from tests.cube_parity.reference import CubeSql

CASES = generate()


@pytest.fixture(scope='session')
def parity_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('cube-parity-lake')
    build_lake(root)
    return root


@pytest.fixture(scope='session')
def cube_answers(parity_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Cube's answer (the oracle's output line) to every case, by case id."""
    work = tmp_path_factory.mktemp('cube-oracle-run')
    model = write_cube_model(work / 'model')
    lines = [{'id': case.id, 'query': case.query, 'now': case.now} for case in CASES]
    return run_batch(model, cube_table_sql(parity_lake), lines, work)


@pytest.fixture(scope='session')
def verdicts(parity_lake: Path, cube_answers: dict[str, dict]) -> dict[str, Verdict]:
    """Every case asked of the product (its clock pinned to the case's now, as the oracle's is) and judged."""
    engine = DuckDBEngine(str(parity_lake))
    cube_sql = CubeSql(cube_table_sql(parity_lake))
    out = {}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for case in CASES:
                moment = parse_now(case.now)
                patch.setattr(clock, 'now', lambda moment=moment: moment)
                oracle = cube_answers[case.id]
                context = Context(case, oracle_answer(oracle), oracle, cube_sql)
                product = ask_product(case, engine)
                try:
                    out[case.id] = judge(context, product)
                except Exception:  # noqa: BLE001 - a harness fault fails this case's test, not every test
                    problem = f'the parity harness failed on this case:\n{traceback.format_exc()}'
                    out[case.id] = Verdict(case, context.cube, product, [], [], [], [problem])
    finally:
        engine.close()
        cube_sql.close()
    return out
