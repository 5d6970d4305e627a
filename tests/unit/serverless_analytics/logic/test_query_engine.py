import pytest

from serverless_analytics.config import QueryEngineKind, Settings
from serverless_analytics.logic.query_engine import query_dialect, query_engine


@pytest.mark.parametrize('kind', list(QueryEngineKind))
def test_the_dialect_is_the_engines_without_making_it(kind):
    settings = Settings(QUERY_ENGINE=kind)
    assert query_dialect(settings) == query_engine(settings).dialect
