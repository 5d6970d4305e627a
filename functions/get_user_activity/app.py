"""GET /api/v2/insights/user-activity: per user, the time spent, as Coder's server answers."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics import clock
from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.insights_api import InsightsApi, query_values
from serverless_analytics.logic.coder_params import parse_user_insights
from serverless_analytics.logic.insights_reports import activity_report
from serverless_analytics.models.insights import UserActivityInsightsResponse
from serverless_analytics.observability import logger, metrics

api = InsightsApi()
app = api.app()


@app.get('/api/v2/insights/user-activity')
def report(
    # Declared for the OpenAPI document only: Coder's own parser reads the query, with Coder's messages.
    start_time: Annotated[str | None, Query(description='RFC 3339, midnight in its offset; required')] = None,
    end_time: Annotated[str | None, Query(description='RFC 3339, midnight or a whole hour today; required')] = None,
    template_ids: Annotated[str | None, Query(description='UUIDs, comma-separated or repeated')] = None,
) -> UserActivityInsightsResponse:
    params = parse_user_insights(query_values(app.current_event.raw_event), clock.now())
    return activity_report(current_principal(app).project_id, params, get_settings())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
