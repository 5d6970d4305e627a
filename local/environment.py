"""The process environment the handlers see: Lambda's variables from the template, AWS pointed at moto.

All local functions share one process, so they share one environment: the union of every function's
variables (a variable two functions set differently is refused rather than silently picked).
"""

import os
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from local.template import REGION, REPO_ROOT, FunctionSpec

FAKE_CREDENTIALS = {
    'AWS_ACCESS_KEY_ID': 'testing',
    'AWS_SECRET_ACCESS_KEY': 'testing',
    'AWS_SESSION_TOKEN': 'testing',
}
# Where the local stack deliberately differs from AWS (DESIGN §6: DuckDB is the local query engine). Only
# variables the template declares are overridden.
LOCAL_OVERRIDES = {'QUERY_ENGINE': 'duckdb'}
# Variables that would make boto3 read a real profile or account.
UNSET = ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE')


def local_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A boto3 client of the local endpoint with the fake credentials, whatever the process environment says."""
    import boto3  # here, so that importing the environment helpers does not load boto3

    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS['AWS_ACCESS_KEY_ID'],
        aws_secret_access_key=FAKE_CREDENTIALS['AWS_SECRET_ACCESS_KEY'],
        region_name=region,
    )
    return session.client(service, endpoint_url=endpoint)


def functions_environment(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for spec in functions:
        for name, value in spec.environment.items():
            if merged.setdefault(name, value) != value:
                raise ValueError(f'{name} differs between functions; the local stack runs them in one process')
    return merged


def _with_local_overrides(environment: dict[str, str]) -> dict[str, str]:
    return {**environment, **{name: value for name, value in LOCAL_OVERRIDES.items() if name in environment}}


def stack_environment(endpoint: str, functions: Iterable[FunctionSpec]) -> dict[str, str]:
    return {
        **FAKE_CREDENTIALS,
        'AWS_DEFAULT_REGION': REGION,
        'AWS_REGION': REGION,
        'AWS_ENDPOINT_URL': endpoint,
        **_with_local_overrides(functions_environment(functions)),
        'POWERTOOLS_TRACE_DISABLED': '1',  # no X-Ray daemon locally
        **({'POWERTOOLS_DEV': os.environ['POWERTOOLS_DEV']} if 'POWERTOOLS_DEV' in os.environ else {}),
    }


def add_code_paths(layer_dirs: Iterable[str]) -> None:
    """Make `functions.<dir>.app` and the layer's package importable, as /var/task and /opt/python are."""
    for path in [str(REPO_ROOT), *(str(REPO_ROOT / d) for d in layer_dirs)]:
        if path not in sys.path:
            sys.path.insert(0, path)


def refresh_handler_caches() -> None:
    """Settings and boto3 clients are cached per process; make them read the environment again."""
    from serverless_analytics.adapters.clients import reset_clients
    from serverless_analytics.config import get_settings

    get_settings.cache_clear()
    reset_clients()


class EnvironmentPatch:
    """Sets variables on os.environ and puts the previous values back on `restore` (tests share the process)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self._saved: dict[str, str | None] = {}

    def apply(self) -> 'EnvironmentPatch':
        for name in [*self._values, *UNSET]:
            self._saved.setdefault(name, os.environ.get(name))
        for name in UNSET:
            os.environ.pop(name, None)
        os.environ.update(self._values)
        refresh_handler_caches()
        return self

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()
        refresh_handler_caches()


def apply_stack_environment(
    endpoint: str, functions: Iterable[FunctionSpec], layer_dirs: Iterable[str]
) -> EnvironmentPatch:
    add_code_paths(layer_dirs)
    return EnvironmentPatch(stack_environment(endpoint, list(functions))).apply()


def stack_settings(**overrides: Any) -> Any:
    """The handlers' settings as the local stack gives them (the template's resources under their local names),
    with `overrides`: for tests and benches that call the layer's functions directly."""
    from serverless_analytics.config import Settings

    return Settings.model_validate({**_template_environment(), **overrides})


def required_settings_environment() -> dict[str, str]:
    """The variables of the settings that have no default (the stack's resources), as the local stack sets them."""
    from serverless_analytics.config import Settings

    required = {name for name, field in Settings.model_fields.items() if field.is_required()}
    return {name: value for name, value in _template_environment().items() if name in required}


@cache
def _template_environment() -> dict[str, str]:
    from local.template import Template

    return _with_local_overrides(functions_environment(Template.load().functions.values()))
