"""Stream writer compute: records per second per core from the Kinesis trigger event's JSON to Parquet bytes.

Runs the writer's own functions on batches of the template's `StreamBatchSize`: parse the trigger event, decode
each record's base64 data, parse and check the records against the Arrow schema, plan each record (all new), split
them by project and UTC day, and encode each group as a Parquet file (its S3 and DynamoDB calls excluded).
One process, one core. Target: >= 100,000 records/s.
"""

import base64
import json
import random
from datetime import UTC, datetime

from bench.common import batches, best_rate
from functions.write_events.app import _records
from local.template import Template
from serverless_analytics.config import Settings
from serverless_analytics.lake import records as lake
from serverless_analytics.logic.enrich import RequestContext
from serverless_analytics.logic.ingest import partition_key, prepare, to_stream_record
from serverless_analytics.logic.write_events import batch_columns, by_project, lake_files, plan
from serverless_analytics.models.event import TrackEventRequest

BATCH = Template.load().stream_writer.kinesis.batch_size
ROUNDS = max(1, 5000 // BATCH)


def trigger_event(seed: int) -> str:
    """A Kinesis trigger event as Lambda delivers it, holding records the ingest path really produced."""
    rng = random.Random(seed)
    requests = [TrackEventRequest.model_validate(body) for batch in batches(BATCH // 100, 100, seed) for body in batch]
    context = RequestContext(project_id=str(rng.randrange(1, 4)), received_at=datetime(2026, 11, 22, 12, tzinfo=UTC))
    events = prepare(requests, context, Settings())
    records = []
    for sequence, event in enumerate(events):
        record = to_stream_record(event)
        records.append(
            {
                'kinesis': {
                    'kinesisSchemaVersion': '1.0',
                    'partitionKey': partition_key(event),
                    'sequenceNumber': f'4965{seed:04d}{sequence:012d}',
                    'data': base64.b64encode(record.data).decode(),
                    'approximateArrivalTimestamp': 1795329600.0,
                },
                'eventSource': 'aws:kinesis',
                'eventVersion': '1.0',
                'eventID': f'shardId-000000000000:4965{seed:04d}{sequence:012d}',
                'eventName': 'aws:kinesis:record',
                'invokeIdentityArn': 'arn:aws:iam::123456789012:role/write-events',
                'awsRegion': 'us-east-1',
                'eventSourceARN': 'arn:aws:kinesis:us-east-1:123456789012:stream/events',
            }
        )
    return json.dumps({'Records': records})


def to_parquet(raw_event: str) -> int:
    """The writer's own compute path for one trigger event, every event new (its DynamoDB and S3 calls left out)."""
    batch = _records(json.loads(raw_event))
    decoded = lake.decode([record.data for record in batch])
    assert not decoded.bad
    columns = batch_columns(decoded.rows)
    file_rows = lake.to_file_schema(decoded.rows)
    written = 0
    for project_id, members in by_project(batch, decoded, columns).items():
        events = plan(members, [f'{project_id}#{columns["event_id"][row]}' for row, _ in members], columns, {})
        written += sum(len(body) for _, body in lake_files('events', project_id, events, file_rows))
    return written


def main() -> None:
    raw_events = [trigger_event(seed) for seed in range(ROUNDS)]
    bytes_written = sum(to_parquet(raw) for raw in raw_events)

    def work() -> int:
        for raw in raw_events:
            to_parquet(raw)
        return BATCH * ROUNDS

    best, median = best_rate(work)
    print(
        f'stream writer: {best:,.0f} records/s per core (median {median:,.0f}; {BATCH}-record batches; '
        f'{bytes_written / (BATCH * ROUNDS):.0f} Parquet bytes/record); target >= 100,000'
    )


if __name__ == '__main__':
    main()
