"""Entry points of the Cube query API: `load`, `dry_run`, `meta` (and the pieces behind "Continue wait").

    body = load({'measures': ['TrackedEvents.count']}, project_id='42', engine=DuckDBEngine('/lake'),
                query_type='multi')

A long query: `plan_load(...)` gives a `LoadPlan` with a `cache_key`; `run_plan(plan, engine,
wait_seconds=5)` raises `ContinueWait(cache_key, execution_ids)` when the executions are still running;
calling `run_plan(plan, engine, execution_ids=ids, wait_seconds=5)` later resumes them instead of starting new ones.
"""

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from serverless_analytics import clock
from serverless_analytics.cube import formatter
from serverless_analytics.cube.compiler import CompiledQuery, compile_query
from serverless_analytics.cube.datamodel import DataModel, default_model
from serverless_analytics.cube.meta_response import meta_response
from serverless_analytics.cube.query import BLENDING, COMPARE, REGULAR, Query, normalize_request
from serverless_analytics.cube.target import Target
from serverless_analytics.engines.base import QueryEngine, QueryResult, wait_for
from serverless_analytics.models.errors import ContinueWait, CubeQueryError


@dataclass
class LoadPlan:
    """Everything decided before touching the engine; `statements` are run in this order."""

    query_type: str
    queries: list[Query]
    compiled: list[CompiledQuery]
    multi: bool
    model: DataModel
    now: datetime
    cache_key: str

    @property
    def statements(self) -> list[str]:
        return [c.sql for c in self.compiled] + [c.total_sql for c in self.compiled if c.total_sql]


def compile_request(
    query_json: Any, project_id: str | int, target: Target, now: datetime | None = None, model: DataModel | None = None
) -> tuple[str, list[Query], list[CompiledQuery]]:
    """Parse → normalise → SQL for every query of a request."""
    now = now or clock.now()
    model = model or default_model()
    query_type, queries = normalize_request(query_json, now)
    return query_type, queries, [compile_query(q, model, str(project_id), target, now) for q in queries]


def plan_load(
    query_json: Any,
    project_id: str | int,
    engine: QueryEngine,
    now: datetime | None = None,
    query_type: str | None = None,
    model: DataModel | None = None,
) -> LoadPlan:
    now = now or clock.now()
    model = model or default_model()
    target = Target.of(engine)
    kind, queries, compiled = compile_request(query_json, project_id, target, now, model)
    if kind != REGULAR and not query_type:
        raise CubeQueryError(f"'{kind}' query type is not supported by the client.Please update the client.")
    key_source = json.dumps([str(project_id), engine.dialect, kind, [q.echo for q in queries]], sort_keys=True)
    cache_key = hashlib.sha256(key_source.encode()).hexdigest()
    return LoadPlan(kind, queries, compiled, bool(query_type), model, now, cache_key)


def run_plan(
    plan: LoadPlan, engine: QueryEngine, execution_ids: list[str] | None = None, wait_seconds: float | None = None
) -> dict:
    """Run (or resume) the plan's statements and format the response; raises `ContinueWait` on timeout."""
    statements = plan.statements
    if not execution_ids or len(execution_ids) != len(statements):
        execution_ids = [engine.start(sql) for sql in statements]
    results = wait_for(engine, execution_ids, wait_seconds)
    if results is None:
        raise ContinueWait(plan.cache_key, execution_ids)
    return format_load(plan, results, engine.db_type)


def load(
    query_json: Any,
    project_id: str | int,
    engine: QueryEngine,
    now: datetime | None = None,
    query_type: str | None = None,
    model: DataModel | None = None,
    *,
    execution_ids: list[str] | None = None,
    wait_seconds: float | None = None,
) -> dict:
    """`/v1/load`: the multi wrapper when `query_type` is given (the JS client sends "multi"), else the bare result."""
    plan = plan_load(query_json, project_id, engine, now, query_type, model)
    return run_plan(plan, engine, execution_ids, wait_seconds)


def format_load(plan: LoadPlan, results: list[QueryResult], db_type: str) -> dict:
    count = len(plan.compiled)
    totals = iter(results[count:])
    echoes = [copy.deepcopy(q.echo) for q in plan.queries]
    pivot = formatter.pivot_query(plan.query_type, echoes)
    bodies = []
    for query, compiled, result, echo in zip(plan.queries, plan.compiled, results[:count], echoes, strict=True):
        total = _total(next(totals)) if compiled.total_sql else None
        bodies.append(_result_body(plan, query, compiled, result, echo, total, db_type))
    if not plan.multi:
        return bodies[0]
    return {'queryType': plan.query_type, 'results': bodies, 'pivotQuery': pivot, 'slowQuery': False}


def _result_body(plan, query, compiled, result, echo, total, db_type) -> dict:
    formatter.check_visible(compiled, query, plan.model, bool(result.rows))
    data = formatter.rows(compiled, query, result)
    if plan.query_type == COMPARE:
        formatter.add_compare_key(data, echo['timeDimensions'] and _compare_range(echo))
    elif plan.query_type == BLENDING:
        formatter.add_blending_key(data, query)
    annotation = formatter.annotation(compiled, query, plan.model)
    # Cube reads `responseFormat` of a query object only: the queries of a blending array answer rows.
    compact = query.response_format == 'compact' and plan.query_type != BLENDING
    payload = formatter.compact(data, compiled, query, plan.query_type) if compact else data
    return formatter.result_object(echo, payload, annotation, db_type, plan.now, total)


def _compare_range(echo: dict) -> list[str] | None:
    return next((td['dateRange'] for td in echo['timeDimensions'] if 'dateRange' in td), None)


def _total(result: QueryResult) -> int:
    return int(result.rows[0][0]) if result.rows else 0


# A dry run compiles only to check the query and find its order; its SQL is never shown, so the deployment's
# engine and dialect change nothing in the answer.
_DRY_RUN_TARGET = Target('duckdb', 'events')


def dry_run(
    query_json: Any,
    project_id: str | int = 'dry-run',
    now: datetime | None = None,
    model: DataModel | None = None,
) -> dict:
    """`/v1/dry-run`: the normalised queries and effective order, without touching an engine."""
    kind, queries, compiled = compile_request(query_json, project_id, _DRY_RUN_TARGET, now, model)
    echoes = [copy.deepcopy(q.echo) for q in queries]
    pivot = formatter.pivot_query(kind, echoes)
    return {
        'queryType': kind,
        'normalizedQueries': echoes,
        'queryOrder': [{member: 'desc' if desc else 'asc' for member, desc in c.order} for c in compiled],
        'transformedQueries': [None for _ in compiled],
        'pivotQuery': pivot,
    }


def meta(model: DataModel | None = None) -> dict:
    """`/v1/meta`: visible cubes and members (primary keys hidden)."""
    return meta_response(model or default_model())
