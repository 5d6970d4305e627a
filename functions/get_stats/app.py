"""GET /api/v1/analytics/stats: the project's event counts and the state of the pipeline."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.logic.stats import project_stats
from serverless_analytics.models.api import StatsResponse
from serverless_analytics.models.api_key import Scope
from serverless_analytics.observability import logger, metrics

api = IngestionApi(Scope.READ)
app = api.app()


@app.get('/api/v1/analytics/stats')
def stats() -> StatsResponse:
    return project_stats(current_principal(app).project_id, get_settings())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
