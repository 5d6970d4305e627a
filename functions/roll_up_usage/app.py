"""Scheduled (EventBridge, every 5 minutes): recompute the usage buckets of every (project, day) that received
events since the last run. Also run by hand with `{"project_id": ..., "dates": [...]}` to backfill days."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.usage_rollup import roll_up_usage
from serverless_analytics.models.usage import UsageRollupRequest
from serverless_analytics.observability import add_count_metrics, logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = UsageRollupRequest.model_validate(event)
    result = roll_up_usage(request, get_settings(), lambda: context.get_remaining_time_in_millis() / 1000)
    add_count_metrics(result.model_dump(exclude={'skipped'}))
    return result.model_dump()
