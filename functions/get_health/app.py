"""GET /api/v1/analytics/health: liveness without credentials; `?deep=true` also checks stream, tables, bucket."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.logic.health import check_health
from serverless_analytics.models.api import HealthResponse
from serverless_analytics.observability import logger, metrics

api = IngestionApi(None)
app = api.app()


@app.get('/api/v1/analytics/health')
def health(deep: bool = False) -> Response[HealthResponse]:
    report = check_health(get_settings(), deep=deep)
    return Response(report.status_code, content_types.APPLICATION_JSON, body=report.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
