"""Cube `dry-run`: GitLab's `.../product_analytics/request/dry-run` and Cube's `/cubejs-api/v1/dry-run`."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.cube import dry_run as dry_run_document
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.query_api import QueryApi, query_request
from serverless_analytics.models.query import CubeRequest
from serverless_analytics.observability import logger, metrics

api = QueryApi()
app = api.app()


@app.post('/projects/<project_id>/product_analytics/request/dry-run')
def gitlab_dry_run(project_id: str, request: Annotated[CubeRequest, Body()]) -> dict:
    return cube_dry_run(request)


@app.post('/cubejs-api/v1/dry-run')
def cube_dry_run(request: Annotated[CubeRequest, Body()]) -> dict:
    return dry_run_document(request.query, current_principal(app).project_id)


@app.get('/cubejs-api/v1/dry-run')
def cube_dry_run_by_get(
    query: Annotated[str | None, Query()] = None, query_type: Annotated[str | None, Query(alias='queryType')] = None
) -> dict:
    return cube_dry_run(query_request(query, query_type))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
