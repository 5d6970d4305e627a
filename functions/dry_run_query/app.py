"""Cube `dry-run`: GitLab's `.../product_analytics/request/dry-run` and Cube's `/cubejs-api/v1/dry-run`."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.cube import dry_run as dry_run_document
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.query_api import cube_request, query_app, resolve_query_route
from serverless_analytics.observability import logger, metrics

app = query_app()


@app.post('/projects/<project_id>/product_analytics/request/dry-run')
@app.get('/cubejs-api/v1/dry-run')
@app.post('/cubejs-api/v1/dry-run')
def dry_run(project_id: str | None = None) -> dict:
    return dry_run_document(cube_request(app).query, current_principal(app).project_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_query_route(app, event, context, get_settings())
