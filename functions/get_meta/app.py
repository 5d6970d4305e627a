"""Cube `meta`: GitLab's `GET|POST .../product_analytics/request/meta` and Cube's `GET /cubejs-api/v1/meta`."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.cube import meta as meta_document
from serverless_analytics.http.query_api import QueryApi
from serverless_analytics.observability import logger, metrics

api = QueryApi()
app = api.app()


@app.get('/projects/<project_id>/product_analytics/request/meta')
@app.post('/projects/<project_id>/product_analytics/request/meta')
def gitlab_meta(project_id: str) -> dict:
    return meta_document()


@app.get('/cubejs-api/v1/meta')
def cube_meta() -> dict:
    return meta_document()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
