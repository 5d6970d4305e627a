"""Cube loads for one project, with Cube's "Continue wait" for queries that outlast a request.

A load still running after `QUERY_WAIT_SECONDS` answers "Continue wait"; its engine execution ids are kept
in the query-state table under the plan's cache key (project + normalised query), so the client's identical
retry resumes the same executions instead of starting new ones.
"""

from datetime import datetime
from typing import Any

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.cube import plan_load, run_plan
from serverless_analytics.cube.api import LoadPlan
from serverless_analytics.engines import QueryEngine
from serverless_analytics.logic import tokens
from serverless_analytics.logic.gitlab import fill_date_gaps
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.api_key import Principal
from serverless_analytics.models.errors import ContinueWait, UnknownExecutionError
from serverless_analytics.models.query import CubeRequest
from serverless_analytics.observability import logger


def load(project_id: str, query: Any, query_type: str | None, settings: Settings, now: datetime | None = None) -> dict:
    """Cube's `/v1/load` body; raises `CubeQueryError` (invalid query) or `ContinueWait` (still running)."""
    engine = query_engine(settings)
    plan = plan_load(query, project_id, engine, now=now, query_type=query_type)
    kept = _running_executions(settings, plan.cache_key)
    try:
        body = _resume_or_run(plan, engine, kept, settings.QUERY_WAIT_SECONDS)
    except ContinueWait as waiting:
        _remember(settings, waiting.cache_key, waiting.execution_ids)
        raise
    except BaseException:
        # A failed execution kept here would fail every identical retry until the state expires.
        _forget(settings, plan.cache_key, kept)
        raise
    _forget(settings, plan.cache_key, kept)
    return body


def _resume_or_run(plan: LoadPlan, engine: QueryEngine, kept: list[str] | None, wait_seconds: float) -> dict:
    try:
        return run_plan(plan, engine, execution_ids=kept, wait_seconds=wait_seconds)
    except UnknownExecutionError:
        # The executions are gone (an engine that keeps them in memory was restarted): run the plan again.
        logger.info('Kept executions are unknown to the engine; starting again', extra={'cache_key': plan.cache_key})
        return run_plan(plan, engine, wait_seconds=wait_seconds)


def _running_executions(settings: Settings, cache_key: str) -> list[str] | None:
    item = dynamodb.get_item(settings.QUERY_STATE_TABLE, {'cache_key': cache_key})
    if not item or int(item.get('expires_at', 0)) < clock.now().timestamp():
        return None
    return list(item['execution_ids'])


def _remember(settings: Settings, cache_key: str, execution_ids: list[str]) -> None:
    expires_at = int(clock.now().timestamp()) + settings.QUERY_STATE_TTL_SECONDS
    dynamodb.put_item(
        settings.QUERY_STATE_TABLE, {'cache_key': cache_key, 'execution_ids': execution_ids, 'expires_at': expires_at}
    )


def _forget(settings: Settings, cache_key: str, kept: list[str] | None) -> None:
    if kept:
        dynamodb.delete_item(settings.QUERY_STATE_TABLE, {'cache_key': cache_key})


def load_request(
    principal: Principal, request: CubeRequest, settings: Settings, default_query_type: str | None
) -> dict:
    """A load for the caller's project; with `include_token`, a short-lived token for that project too."""
    body = load(principal.project_id, request.query, request.query_type or default_query_type, settings)
    if request.include_token:
        body['token'] = tokens.issue_token(settings, principal)
    return body


def gitlab_load_request(principal: Principal, request: CubeRequest, settings: Settings) -> dict:
    """A load as GitLab's proxy answers it: Cube's multi form, with GitLab's DataTransformer date gaps filled."""
    body = load_request(principal, request, settings, default_query_type='multi')
    return fill_date_gaps(request.query, body)
