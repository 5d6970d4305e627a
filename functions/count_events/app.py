"""POST /analytics/api/v1/traffic/event-counts: events per name and period, as Fluid Topics' analytics API answers."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.export_api import event_counts_request, export_app, resolve_export_route
from serverless_analytics.logic.export_counts import count_events
from serverless_analytics.observability import logger, metrics

app = export_app()


@app.post('/analytics/api/v1/traffic/event-counts')
def event_counts() -> dict:
    response = count_events(current_principal(app).project_id, event_counts_request(app), get_settings())
    return response.model_dump(mode='json', by_alias=True)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_export_route(app, event, context, get_settings())
