"""Kinesis trigger, the events stream's second consumer: keep the user directory and status history."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.update_user_directory import update_user_directory
from serverless_analytics.models.stream import batch_response, delivered_records
from serverless_analytics.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = delivered_records(event)
    failed = update_user_directory(records, get_settings())
    metrics.add_metric(name='DirectoryRecordsRead', unit='Count', value=len(records) - len(failed))
    metrics.add_metric(name='DirectoryRecordsFailed', unit='Count', value=len(failed))
    return batch_response(failed)
