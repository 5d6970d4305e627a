"""GET /api/v2/templates/{template}/daus: one template's daily active users, as Coder's server answers."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.insights_api import InsightsApi, query_values
from serverless_analytics.logic.coder_params import parse_daus, parse_template_path_id
from serverless_analytics.logic.daus import daily_active_users
from serverless_analytics.models.insights import DAUsResponse
from serverless_analytics.observability import logger, metrics

api = InsightsApi()
app = api.app()


@app.get('/api/v2/templates/<template>/daus')
def template_daus(
    template: str,
    # Declared for the OpenAPI document only: Coder's own parser reads the query, with Coder's messages.
    tz_offset: Annotated[str | None, Query(description='Hours east of UTC, as Coder reads it')] = None,
    timezone: Annotated[str | None, Query(description='An IANA time zone (not with tz_offset)')] = None,
) -> DAUsResponse:
    template_id = parse_template_path_id(template)
    params = parse_daus(query_values(app.current_event.raw_event))
    return daily_active_users(current_principal(app).project_id, params, get_settings(), template_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handle(app, event, context, get_settings())
