"""Scheduled (EventBridge, daily at 00:15 UTC): active users without events for DORMANCY_DAYS become dormant, then
each project's user status counts at the day's UTC midnight are kept as a daily snapshot. Also run by hand with
`{"project_id": ..., "dates": [...]}` to write those days' snapshots again (a backfill)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.user_status import UserStatusRequest, update_user_status
from serverless_analytics.observability import add_count_metrics, logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = UserStatusRequest.model_validate(event)
    result = update_user_status(request, get_settings(), lambda: context.get_remaining_time_in_millis() / 1000)
    add_count_metrics(result.model_dump(exclude={'skipped'}))
    return result.model_dump()
