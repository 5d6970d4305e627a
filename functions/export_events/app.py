"""POST /analytics/api/v1/events: a page of the project's events, as Fluid Topics' analytics API answers."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.export_api import events_request, export_app, resolve_export_route
from serverless_analytics.logic.export_events import export_events
from serverless_analytics.observability import logger, metrics

app = export_app()


@app.post('/analytics/api/v1/events')
def retrieve_events() -> dict:
    settings = get_settings()
    response = export_events(current_principal(app).project_id, events_request(app, settings), settings)
    metrics.add_metric(name='EventsExported', unit='Count', value=len(response.results))
    return response.model_dump(by_alias=True)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_export_route(app, event, context, get_settings())
