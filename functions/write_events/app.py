"""Kinesis trigger: write each batch of events to the Parquet lake and to DynamoDB."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.write_events import write_batch
from serverless_analytics.models.stream import batch_response, delivered_records
from serverless_analytics.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = delivered_records(event)
    failed = write_batch(records, get_settings())
    metrics.add_metric(name='RecordsWritten', unit='Count', value=len(records) - len(failed))
    metrics.add_metric(name='RecordsFailed', unit='Count', value=len(failed))
    return batch_response(failed)
