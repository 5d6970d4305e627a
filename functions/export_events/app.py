"""POST /analytics/api/v1/events: a page of the project's events, as Fluid Topics' analytics API answers."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.export_api import ExportApi, with_paging
from serverless_analytics.logic.export_events import export_events
from serverless_analytics.models.export import EventsRequest, EventsResponse
from serverless_analytics.observability import logger, metrics

api = ExportApi()
app = api.app()


@app.post('/analytics/api/v1/events')
def retrieve_events(
    request: Annotated[EventsRequest, Body()],
    page: Annotated[int | None, Query()] = None,
    per_page: Annotated[int | None, Query()] = None,
) -> EventsResponse:
    settings = get_settings()
    response = export_events(
        current_principal(app).project_id, with_paging(request, page, per_page, settings), settings
    )
    metrics.add_metric(name='EventsExported', unit='Count', value=len(response.results))
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
