"""Stream writer compute: records per second per core from the Kinesis trigger event's JSON to Parquet bytes.

Batches of the template's `StreamBatchSize` go through the real `write_events` handler as the runtime calls it:
the trigger JSON is parsed, then the handler decodes the records, checks them against the Arrow schema, plans
them (all new), writes one Parquet file per project and UTC day and the DynamoDB event items and counters. The
AWS clients are in-memory stubs (bench/common.StubAws), so the figure is the writer's CPU alone, a superset of
"to Parquet bytes". One process, one core. Target: >= 100,000 records/s.

It also prints the issue's narrower figure, from the trigger JSON to Parquet bytes only: the same steps of the
handler up to the lake files (parse, decode and check the records, plan them, one Parquet file per project and
day), without the DynamoDB items and counters.

And the floor under both: the steps no writer of one-JSON-event records can skip (the runtime's parse of the
trigger JSON, base64, Arrow's JSON read with the record checks `decode` makes, one Parquet file of the rows) and
nothing else: no planning, no per-day files, no DynamoDB. What separates it from the target no change to the
rest of our code can close.
"""

import contextlib
import io
import json
import random
from datetime import UTC, datetime

from bench.common import aws_stubbed, batches, best_rate, lambda_context
from functions.write_events.app import lambda_handler, stream_records
from local.environment import stack_settings
from local.poller import kinesis_trigger_event
from local.template import Template
from serverless_analytics.lake import records as lake
from serverless_analytics.logic.enrich import RequestContext
from serverless_analytics.logic.ingest import partition_key, prepare, to_stream_record
from serverless_analytics.logic.write_events import lake_files, plan, prepare_batch
from serverless_analytics.models.event import TrackEventRequest

WRITER = Template.load().stream_writer
BATCH = WRITER.kinesis.batch_size
ROUNDS = max(1, 5000 // BATCH)


def trigger_event(seed: int) -> str:
    """A Kinesis trigger event as Lambda delivers it, holding records the ingest path really produced."""
    rng = random.Random(seed)
    requests = [TrackEventRequest.model_validate(body) for batch in batches(BATCH // 100, 100, seed) for body in batch]
    arrived = datetime(2026, 11, 22, 12, tzinfo=UTC)
    context = RequestContext(project_id=str(rng.randrange(1, 4)), received_at=arrived)
    events = prepare(requests, context, stack_settings())
    records = [
        {
            'PartitionKey': partition_key(event),
            'SequenceNumber': f'4965{seed:04d}{sequence:012d}',
            'Data': to_stream_record(event).data,
            'ApproximateArrivalTimestamp': arrived,
        }
        for sequence, event in enumerate(events)
    ]
    return json.dumps(kinesis_trigger_event(WRITER, 'shardId-000000000000', records))


def write(raw_event: str, context) -> None:
    """What the runtime and the handler do with one trigger event (its output goes to the stub clients)."""
    response = lambda_handler(json.loads(raw_event), context)
    assert response == {'batchItemFailures': []}, response


def lake_files_of(raw_event: str) -> list[tuple[str, bytes]]:
    """The handler's steps from the trigger JSON to the lake files (all records new): (object key, Parquet bytes)."""
    prepared = prepare_batch(stream_records(json.loads(raw_event)))
    return [
        file
        for project_id, group in prepared.projects.items()
        for file in lake_files(
            'events', project_id, plan(group.members, group.pks, prepared.columns, {}), prepared.file_rows
        )
    ]


def to_parquet(raw_event: str) -> int:
    """The bytes of the lake files of a trigger event."""
    return sum(len(body) for _, body in lake_files_of(raw_event))


def floor(raw_event: str) -> bytes:
    """The unavoidable steps alone, from the trigger JSON to one Parquet file of every record."""
    rows = lake.decode([record.data for record in stream_records(json.loads(raw_event))]).rows
    return lake.parquet_bytes(lake.to_file_schema(rows))


def main() -> None:
    raw_events = [trigger_event(seed) for seed in range(ROUNDS)]
    context = lambda_context(WRITER.logical_id)

    def work() -> int:
        # The handler prints its metrics (EMF) to stdout after each batch, as in Lambda; kept out of the output.
        with contextlib.redirect_stdout(io.StringIO()):
            for raw in raw_events:
                write(raw, context)
        return BATCH * ROUNDS

    with aws_stubbed() as stub:
        work()
        parquet_bytes = stub.object_bytes
        transactions, transaction_items = stub.transactions, stub.transaction_items
        best, median = best_rate(work)

    def parquet_only() -> int:
        written = sum(to_parquet(raw) for raw in raw_events)
        assert written == parquet_bytes, 'the narrow path must write what the handler writes'
        return BATCH * ROUNDS

    parquet_best, parquet_median = best_rate(parquet_only)

    def floor_only() -> int:
        for raw in raw_events:
            floor(raw)
        return BATCH * ROUNDS

    floor_best, floor_median = best_rate(floor_only)
    print(
        f'stream writer floor, the trigger parse, base64, Arrow JSON read and Parquet write alone: '
        f'{floor_best:,.0f} records/s per core (median {floor_median:,.0f})'
    )
    print(
        f'stream writer, trigger JSON to Parquet bytes only: {parquet_best:,.0f} records/s per core '
        f'(median {parquet_median:,.0f}); target >= 100,000'
    )
    print(
        f'stream writer: {best:,.0f} records/s per core (median {median:,.0f}; {BATCH}-record batches; '
        f'{parquet_bytes / (BATCH * ROUNDS):.0f} Parquet bytes/record); target >= 100,000'
    )
    print(
        f'stream writer: {transactions / ROUNDS:.0f} DynamoDB transactions of {transaction_items / transactions:.0f} '
        f'items per {BATCH}-record batch'
    )


if __name__ == '__main__':
    main()
