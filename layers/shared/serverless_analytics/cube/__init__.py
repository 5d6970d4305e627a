"""Cube-compatible query compiler: Cube data model (YAML) + Cube query JSON → SQL (sqlglot) → Cube wire format.

Public API: `load`, `dry_run`, `meta`, `plan_load`/`run_plan` (resumable loads), `compile_request`, the errors,
and the engines (`DuckDBEngine` here; `AthenaEngine` in `serverless_analytics.cube.engines.athena_engine`).
"""

from serverless_analytics.cube.api import LoadPlan, compile_request, dry_run, load, meta, plan_load, run_plan
from serverless_analytics.cube.compiler import Target
from serverless_analytics.cube.datamodel import DataModel, default_model, load_model
from serverless_analytics.cube.errors import ContinueWait, CubeLimitError, CubeModelError, CubeQueryError

__all__ = [
    'ContinueWait',
    'CubeLimitError',
    'CubeModelError',
    'CubeQueryError',
    'DataModel',
    'LoadPlan',
    'Target',
    'compile_request',
    'default_model',
    'dry_run',
    'load',
    'load_model',
    'meta',
    'plan_load',
    'run_plan',
]
