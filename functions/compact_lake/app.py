"""Scheduled (EventBridge): merge the lake's small files and drop duplicate event ids. Also run by hand with
`{"project_id": ..., "dates": [...]}` to compact part of the lake."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.compact_lake import compact_lake
from serverless_analytics.models.compaction import CompactionRequest
from serverless_analytics.observability import add_count_metrics, logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CompactionRequest.model_validate(event)
    result = compact_lake(request, get_settings(), lambda: context.get_remaining_time_in_millis() / 1000)
    add_count_metrics(result.model_dump())
    return result.model_dump()
