"""Cube-compatible query compiler: Cube data model (YAML) + Cube query JSON → SQL (sqlglot) → Cube wire format.

Public API: `load`, `dry_run`, `meta`, `plan_load`/`run_plan` (resumable loads), `compile_request` and the
errors; the engines that run the SQL are `serverless_analytics.engines`. Names are imported on first use, as
in `engines`: a route that needs one submodule (the export routes need `cube.target`) does not load the model,
query and formatter modules with it.
"""

from importlib import import_module

_LAZY = {
    'LoadPlan': 'api',
    'compile_request': 'api',
    'dry_run': 'api',
    'load': 'api',
    'meta': 'api',
    'plan_load': 'api',
    'run_plan': 'api',
    'Target': 'target',
    'DataModel': 'datamodel',
    'default_model': 'datamodel',
    'load_model': 'datamodel',
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f'{__name__}.{_LAZY[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
