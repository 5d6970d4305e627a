"""Query engines behind one interface: `DuckDBEngine` (local, tests) and `AthenaEngine` (production).

Engines are imported lazily, so a Lambda using Athena never needs duckdb and only `athena_engine` imports boto3.
"""

from importlib import import_module

from serverless_analytics.cube.engines.base import QueryEngine, QueryResult, ResultColumn

_LAZY = {
    'DuckDBEngine': 'duckdb_engine',
    'S3LakeDuckDBEngine': 'duckdb_engine',
    'lake_source_for': 'duckdb_engine',
    'AthenaEngine': 'athena_engine',
    'AthenaQueryError': 'athena_engine',
}

__all__ = ['QueryEngine', 'QueryResult', 'ResultColumn', *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f'{__name__}.{_LAZY[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
