"""GET /api/v2/insights/user-status-counts: how many users were active, dormant or suspended at each midnight of
the last 60 days, as Coder's server answers (from the status history the stream writer and the daily job keep)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics import clock
from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.insights_api import InsightsApi, query_values
from serverless_analytics.logic.coder_params import parse_user_status_counts
from serverless_analytics.logic.user_status import status_history, user_status_counts
from serverless_analytics.models.insights import GetUserStatusCountsResponse
from serverless_analytics.observability import logger, metrics

api = InsightsApi()
app = api.app()


@app.get('/api/v2/insights/user-status-counts')
def status_counts(
    # Declared for the OpenAPI document only: Coder's own parser reads the query, with Coder's messages.
    tz_offset: Annotated[str | None, Query(description='Hours east of UTC, as Coder reads it')] = None,
    interval: Annotated[str | None, Query(description='Seconds between points (default 86400)')] = None,
    timezone: Annotated[str | None, Query(description='An IANA time zone (not with tz_offset)')] = None,
) -> GetUserStatusCountsResponse:
    params = parse_user_status_counts(query_values(app.current_event.raw_event))
    history = status_history(current_principal(app).project_id, get_settings())
    body = user_status_counts(*history, clock.now(), params.tz_offset, params.timezone, params.step_seconds)
    return GetUserStatusCountsResponse.model_validate(body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
