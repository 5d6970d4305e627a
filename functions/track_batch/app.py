"""POST /api/v1/analytics/batch: track up to 100 events in one request."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.http.tracking import request_context
from serverless_analytics.logic.ingest import track_batch
from serverless_analytics.models.api import TrackBatchResponse
from serverless_analytics.models.api_key import Scope
from serverless_analytics.models.event import TrackBatchRequest
from serverless_analytics.observability import logger, metrics

api = IngestionApi(Scope.INGEST, body=TrackBatchRequest)
app = api.app()


@app.post('/api/v1/analytics/batch')
def track(batch: TrackBatchRequest) -> TrackBatchResponse:
    response = track_batch(batch, request_context(app, client_id=batch.client_id), get_settings())
    metrics.add_metric(name='EventsQueued', unit='Count', value=response.events_queued)
    metrics.add_metric(name='EventsFailed', unit='Count', value=response.events_failed)
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
