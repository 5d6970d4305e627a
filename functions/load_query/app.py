"""Cube `load`: GitLab's `POST /projects/{project_id}/product_analytics/request/load` and Cube's `/cubejs-api/v1/load`."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.query_api import cube_request, query_app, resolve_query_route
from serverless_analytics.logic.cube_queries import gitlab_load_request, load_request
from serverless_analytics.observability import logger, metrics

app = query_app()


@app.post('/projects/<project_id>/product_analytics/request/load')
def gitlab_load(project_id: str) -> dict:
    return gitlab_load_request(current_principal(app), cube_request(app), get_settings())


@app.get('/cubejs-api/v1/load')
@app.post('/cubejs-api/v1/load')
@app.get('/cubejs-api/v1/subscribe')  # Cube answers its polling `subscribe` exactly like `load`
@app.post('/cubejs-api/v1/subscribe')
def cube_load() -> dict:
    return load_request(current_principal(app), cube_request(app), get_settings(), default_query_type=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_query_route(app, event, context, get_settings())
