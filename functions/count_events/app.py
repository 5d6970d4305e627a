"""POST /analytics/api/v1/traffic/event-counts: events per name and period, as Fluid Topics' analytics API answers."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.export_api import ExportApi
from serverless_analytics.logic.count_events import count_events
from serverless_analytics.models.export import CountEventsRequest, CountEventsResponse
from serverless_analytics.observability import logger, metrics

api = ExportApi()
app = api.app()


@app.post('/analytics/api/v1/traffic/event-counts')
def count(request: Annotated[CountEventsRequest, Body()]) -> CountEventsResponse:
    return count_events(current_principal(app).project_id, request, get_settings())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
