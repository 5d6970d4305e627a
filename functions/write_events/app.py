"""Kinesis trigger: write each batch of events to the Parquet lake and to DynamoDB."""

from typing import Any

import pybase64
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_analytics.config import get_settings
from serverless_analytics.logic.write_events import DeliveredRecord, write_batch
from serverless_analytics.observability import logger, metrics


def stream_records(event: dict[str, Any]) -> list[DeliveredRecord]:
    # Plain dict access rather than Powertools' KinesisStreamEvent: its per-record wrappers cost more than
    # decoding the record, on the writer's hottest loop. pybase64 (SIMD) decodes ~4x faster than binascii.
    b64decode = pybase64.b64decode
    return [
        DeliveredRecord(
            record['eventID'].partition(':')[0],
            record['kinesis']['sequenceNumber'],
            record['kinesis']['partitionKey'],
            b64decode(record['kinesis']['data'], validate=True),
        )
        for record in event['Records']
    ]


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = stream_records(event)
    failed = write_batch(records, get_settings())
    metrics.add_metric(name='RecordsWritten', unit='Count', value=len(records) - len(failed))
    metrics.add_metric(name='RecordsFailed', unit='Count', value=len(failed))
    return {'batchItemFailures': [{'itemIdentifier': sequence} for sequence in failed]}
