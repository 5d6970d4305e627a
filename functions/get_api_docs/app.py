"""GET /openapi.json and GET /docs: the OpenAPI document of every route, and Swagger UI over it (no credential)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.docs_api import DocsApi, html, openapi_document, swagger_page
from serverless_analytics.observability import logger, metrics

api = DocsApi()
app = api.app()


@app.get('/openapi.json')
def openapi() -> dict:
    return openapi_document()


@app.get('/docs')
def docs() -> Response[str]:
    return html(swagger_page())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
