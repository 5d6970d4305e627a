"""POST /api/v1/analytics: track one event."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.http.tracking import request_context
from serverless_analytics.logic.ingest import track_event
from serverless_analytics.models.api import TrackEventResponse
from serverless_analytics.models.api_key import Scope
from serverless_analytics.models.event import TrackEventRequest
from serverless_analytics.observability import logger, metrics

api = IngestionApi(Scope.INGEST, body=TrackEventRequest)
app = api.app()


@app.post('/api/v1/analytics')
def track(event: TrackEventRequest) -> TrackEventResponse:
    response = track_event(event, request_context(app), get_settings())
    metrics.add_metric(name='EventsQueued', unit='Count', value=1)
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
