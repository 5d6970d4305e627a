"""Query engines behind one interface: `AthenaEngine` (production) and the in-process `DuckDBEngine` (tests,
benches, and under the local stack's lake engine).

Engines are imported lazily, so a Lambda using Athena never imports duckdb, and one using DuckDB never
imports the Athena adapter.
"""

from importlib import import_module

from serverless_analytics.engines.base import QueryEngine, QueryExecutionError, QueryResult, ResultColumn, wait_for

_LAZY = {
    'DuckDBEngine': 'duckdb_engine',
    'lake_source_for': 'duckdb_engine',
    'AthenaEngine': 'athena_engine',
    'AthenaQueryError': 'athena_engine',
}

__all__ = ['QueryEngine', 'QueryExecutionError', 'QueryResult', 'ResultColumn', 'wait_for', *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f'{__name__}.{_LAZY[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
