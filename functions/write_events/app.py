"""Kinesis trigger: write each batch of events to the Parquet lake and to DynamoDB."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.write_events import StreamRecord, write_batch
from serverless_analytics.observability import logger, metrics, tracer


def _records(event: dict[str, Any]) -> list[StreamRecord]:
    return [
        StreamRecord(
            shard_id=record.event_id.split(':', 1)[0],
            sequence=record.kinesis.sequence_number,
            partition_key=record.kinesis.partition_key,
            data=record.kinesis.data_as_bytes(),
        )
        for record in KinesisStreamEvent(event).records
    ]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = _records(event)
    failed = write_batch(records, get_settings())
    metrics.add_metric(name='RecordsWritten', unit='Count', value=len(records) - len(failed))
    metrics.add_metric(name='RecordsFailed', unit='Count', value=len(failed))
    return {'batchItemFailures': [{'itemIdentifier': sequence} for sequence in failed]}
