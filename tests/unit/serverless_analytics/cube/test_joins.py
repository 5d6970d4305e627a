"""Joins, views, rolling windows and case dimensions answer as Cube 1.7.43 does.

The expected answers (joins/expected.json) are real Cube's, from the same model (joins/model/) on the same seeded
lake; `python -m tests.unit.serverless_analytics.cube.joins.regenerate` writes them again. Rows are compared as
multisets except where the query's order determines them (a time series, an ordered limit).
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from serverless_analytics.cube import load
from serverless_analytics.cube.datamodel import load_model
from serverless_analytics.engines import DuckDBEngine
from serverless_analytics.models.errors import CubeQueryError
from tests.unit.serverless_analytics.cube.joins.lake import NOW, PROJECT, write_test_lake

HERE = Path(__file__).parent / 'joins'
EXPECTED = {case['id']: case for case in json.loads((HERE / 'expected.json').read_text())}


@pytest.fixture(scope='module')
def model():
    return load_model(HERE / 'model')


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp('joins-lake')
    write_test_lake(root)
    engine = DuckDBEngine(str(root))
    yield engine
    engine.close()


def _answer(query: dict, engine, model) -> dict:
    try:
        body = load(query, PROJECT, engine, now=NOW, query_type='multi', model=model)
    except CubeQueryError as error:
        return {'error': error.message}
    return body['results'][0]


def _ordered(query: dict) -> bool:
    """Rows whose order the query fixes: one time series, or an explicit order with a limit."""
    granular = [td for td in query.get('timeDimensions', []) if td.get('granularity')]
    return (bool(granular) and not query.get('dimensions')) or ('order' in query and 'limit' in query)


def _multiset(rows: list[dict]) -> Counter:
    return Counter(json.dumps(row, sort_keys=True) for row in rows)


@pytest.mark.parametrize('case_id', sorted(EXPECTED))
def test_answers_as_cube(case_id, engine, model):
    expected = EXPECTED[case_id]
    answer = _answer(expected['query'], engine, model)
    if 'error' in expected:
        assert answer == {'error': expected['error']}
        return
    assert 'error' not in answer, answer
    if _ordered(expected['query']):
        assert answer['data'] == expected['data']
    else:
        assert _multiset(answer['data']) == _multiset(expected['data'])
    assert answer['annotation'] == expected['annotation']
    if 'total' in expected:
        assert answer['total'] == expected['total']
