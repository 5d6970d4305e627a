"""A seeded lake in a temporary directory and a DuckDB engine over it, shared by the differential tests."""

import pytest

from serverless_analytics.engines import DuckDBEngine
from tests.differential.lake import generate_events, write_lake

SEED = 20240515


@pytest.fixture(scope='session')
def events():
    return generate_events(SEED)


@pytest.fixture(scope='session')
def engine(tmp_path_factory, events):
    root = tmp_path_factory.mktemp('lake')
    write_lake(root, events)
    engine = DuckDBEngine(str(root))
    yield engine
    engine.close()
