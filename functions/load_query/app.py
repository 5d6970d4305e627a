"""Cube `load`: GitLab's `POST /projects/{project_id}/product_analytics/request/load` and Cube's `/cubejs-api/v1/load`."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.query_api import QueryApi, query_request
from serverless_analytics.logic.cube_queries import gitlab_load_request, load_request
from serverless_analytics.models.query import CubeRequest
from serverless_analytics.observability import logger, metrics

api = QueryApi()
app = api.app()


@app.post('/projects/<project_id>/product_analytics/request/load')
def gitlab_load(project_id: str, request: Annotated[CubeRequest, Body()]) -> dict:
    return gitlab_load_request(current_principal(app), request, get_settings())


@app.post('/cubejs-api/v1/load')
@app.post('/cubejs-api/v1/subscribe')  # Cube answers its polling `subscribe` exactly like `load`
def cube_load(request: Annotated[CubeRequest, Body()]) -> dict:
    return load_request(current_principal(app), request, get_settings(), default_query_type=None)


@app.get('/cubejs-api/v1/load')
@app.get('/cubejs-api/v1/subscribe')
def cube_load_by_get(
    query: Annotated[str | None, Query()] = None, query_type: Annotated[str | None, Query(alias='queryType')] = None
) -> dict:
    return cube_load(query_request(query, query_type))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
