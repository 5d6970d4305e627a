"""Stream writer compute: records per second per core from the Kinesis trigger event's JSON to Parquet bytes.

Batches of the template's `StreamBatchSize` go through the real `write_events` handler as the runtime calls it:
the trigger JSON is parsed, then the handler decodes the records, checks them against the Arrow schema, plans
them (all new), writes one Parquet file per project and UTC day, and the DynamoDB event items and counters. The
AWS clients are in-memory stubs (bench/common.StubAws), so the figure is the writer's CPU alone, a superset of
"to Parquet bytes". One process, one core. Target: >= 0.8x the floor (issue 17). `--profile` prints cProfile's
top entries for the writer instead, by cumulative and by own time; `--profile-directory` for the user directory.

It also prints the issue's narrower figure, from the trigger JSON to Parquet bytes only: the same steps of the
handler up to the lake files (parse, decode and check the records, plan them, one Parquet file per project and
day), without the DynamoDB items and counters.

And the floor under both: the steps no writer of one-JSON-event records can skip (the runtime's parse of the
trigger JSON, base64, Arrow's JSON read with the record checks `decode` makes, one Parquet file of the rows) and
nothing else: no planning, no per-day files, no DynamoDB. What separates it from the target no change to the
rest of our code can close.

Then the stream's other consumer, the user directory (`update_user_directory`), over the same records in batches
of its own size (`UserDirectoryBatchSize`), twice. Steady state: the stub remembers the users table, so after
the first pass every user is one the directory has seen in that hour (its entry is read and left as it is), as
in production after a user's first batch of the hour. First sighting: the users table always reads empty, so
every user of every batch is new and written (once per user and hour in production).
"""

import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import botocore

from bench.common import (  # first: puts the layer on the path
    StubAws,
    aws_sdk_answered,
    aws_stubbed,
    batches,
    best_rates,
    lambda_context,
)
from local.environment import required_settings_environment, stack_settings

# The handler and the event model read the settings from the environment, as in Lambda: the local stack's names.
os.environ.update(required_settings_environment())

from functions.update_user_directory.app import lambda_handler as directory_handler  # noqa: E402
from functions.write_events.app import lambda_handler  # noqa: E402
from local.poller import kinesis_trigger_event  # noqa: E402
from local.template import Template  # noqa: E402
from serverless_analytics.lake import records as lake  # noqa: E402
from serverless_analytics.logic.enrich import RequestContext  # noqa: E402
from serverless_analytics.logic.ingest import partition_key, prepare, to_stream_record  # noqa: E402
from serverless_analytics.logic.write_events import by_hour, lake_files, plan, prepare_batch  # noqa: E402
from serverless_analytics.models.event import TrackEventRequest  # noqa: E402
from serverless_analytics.models.stream import delivered_records  # noqa: E402

TEMPLATE = Template.load()
WRITER = TEMPLATE.stream_writer
DIRECTORY = TEMPLATE.function('UpdateUserDirectoryFunction')
BATCH = WRITER.kinesis.batch_size
DIRECTORY_BATCH = DIRECTORY.kinesis.batch_size
ROUNDS = max(1, 10_000 // BATCH)  # the writer's batches; the directory takes the same records in its own
USERS_TABLE = stack_settings().USERS_TABLE
PROFILE_ENTRIES = 30


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


def lake_files_of(raw_event: str) -> list[tuple[str, bytes]]:
    """The handler's steps from the trigger JSON to the lake files (all records new): (object key, Parquet bytes)."""
    prepared = prepare_batch(delivered_records(json.loads(raw_event)))
    files = []
    for project_id, rows in prepared.projects.items():
        hours = by_hour(plan(rows, prepared.columns, {}).inserts, prepared.columns.time)
        files += lake_files('events', project_id, hours, prepared.columns, prepared.file_rows)
    return files


def to_parquet(raw_event: str) -> int:
    """The bytes of the lake files of a trigger event."""
    return sum(len(body) for _, body in lake_files_of(raw_event))


def floor(raw_event: str) -> bytes:
    """The unavoidable steps alone, from the trigger JSON to one Parquet file of every record."""
    rows = lake.decode([record.data for record in delivered_records(json.loads(raw_event))]).rows
    return lake.parquet_bytes(lake.to_file_schema(rows))


def directory_events(raw_events: list[str]) -> list[str]:
    """The same records as the directory's consumer gets them: in batches of its own size."""
    records = [record for raw in raw_events for record in json.loads(raw)['Records']]
    return [
        json.dumps({'Records': records[start : start + DIRECTORY_BATCH]})
        for start in range(0, len(records), DIRECTORY_BATCH)
    ]


def handler_work(raw_events: list[str], handler: Callable = lambda_handler, function: str = '') -> Callable[[], int]:
    """A handler over every trigger event, as `best_rates` times it: the runtime's parse of each, then the call."""
    context = lambda_context(function or WRITER.logical_id)
    records = sum(len(json.loads(raw)['Records']) for raw in raw_events)

    def work() -> int:
        # The handler prints its metrics (EMF) to stdout after each batch, as in Lambda; kept out of the output.
        with contextlib.redirect_stdout(io.StringIO()):
            for raw in raw_events:
                response = handler(json.loads(raw), context)
                failed = response['batchItemFailures']
                assert not failed, f'{len(failed)} records failed (the log says why)'
        return records

    return work


def directory_work(raw_events: list[str]) -> Callable[[], int]:
    return handler_work(directory_events(raw_events), directory_handler, DIRECTORY.logical_id)


def profile(work: Callable[[], int]) -> None:
    """cProfile of a handler (users seen before), its top entries by cumulative and by own time."""
    with aws_stubbed(StubAws(remembered=[USERS_TABLE])):
        work()  # the warm-up: every user's first sighting, then the runs profiled
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [work() for _ in range(5)])
    stats = pstats.Stats(profiler)
    for order in ('cumulative', 'tottime'):
        stats.sort_stats(order).print_stats(PROFILE_ENTRIES)


def main() -> None:
    raw_events = [trigger_event(seed) for seed in range(ROUNDS)]
    work, directory = handler_work(raw_events), directory_work(raw_events)
    if '--profile' in sys.argv or '--profile-directory' in sys.argv:
        profile(directory if '--profile-directory' in sys.argv else work)
        return
    with aws_stubbed() as stub:
        work()
        parquet_bytes = stub.object_bytes
        transactions, transaction_items = stub.transactions, stub.transaction_items
    # The directory's steady state: the users table remembered, so after the warm-up every user is one the
    # directory has seen in that hour (no write), as in production after a user's first batch of the hour.
    remembering = StubAws(remembered=[USERS_TABLE])
    with aws_stubbed(remembering):
        directory()

    def writer() -> int:
        with aws_stubbed():
            return work()

    def writer_with_sdk() -> int:
        with aws_sdk_answered():
            return work()

    def directory_steady() -> int:
        with aws_stubbed(remembering):
            return directory()

    def directory_first_sighting() -> int:
        with aws_stubbed():
            return directory()

    def parquet_only() -> int:
        written = sum(to_parquet(raw) for raw in raw_events)
        assert written == parquet_bytes, 'the narrow path must write what the handler writes'
        return BATCH * ROUNDS

    def floor_only() -> int:
        for raw in raw_events:
            floor(raw)
        return BATCH * ROUNDS

    rates = best_rates([floor_only, parquet_only, writer, directory_steady, directory_first_sighting, writer_with_sdk])
    (floor_best, floor_median), (parquet_best, parquet_median), (best, median) = rates[:3]
    (steady_best, steady_median), (first_best, first_median), (sdk_best, sdk_median) = rates[3:]
    records = BATCH * ROUNDS
    print(
        f'stream writer floor, the trigger parse, base64, Arrow JSON read and Parquet write alone: '
        f'{floor_best:,.0f} records/s per core (median {floor_median:,.0f})'
    )
    print(
        f'stream writer, trigger JSON to Parquet bytes only: {parquet_best:,.0f} records/s per core '
        f'(median {parquet_median:,.0f}; {parquet_best / floor_best:.2f}x the floor)'
    )
    print(
        f'stream writer: {best:,.0f} records/s per core (median {median:,.0f}; {best / floor_best:.2f}x the floor, '
        f'target >= 0.8x; {BATCH}-record batches; {parquet_bytes / records:.0f} Parquet bytes/record; '
        f'{transactions / ROUNDS:.0f} DynamoDB transactions of {transaction_items / transactions:.0f} items a batch)'
    )
    print(
        f'stream writer with the AWS SDK building its requests (botocore {botocore.__version__} validates, serializes '
        f'and signs each; canned answers, no network): {sdk_best:,.0f} records/s per core (median {sdk_median:,.0f}; '
        f'{sdk_best / floor_best:.2f}x the floor)'
    )
    print(
        f'user directory, users seen before (steady state): {steady_best:,.0f} records/s per core '
        f"(median {steady_median:,.0f}; {steady_best / floor_best:.2f}x the writer's floor; "
        f'{DIRECTORY_BATCH}-record batches)'
    )
    print(
        f'user directory, every user new in every batch (first sighting): {first_best:,.0f} records/s per core '
        f"(median {first_median:,.0f}; {first_best / floor_best:.2f}x the writer's floor)"
    )
    both = 1 / (1 / best + 1 / steady_best)
    print(f'both consumers of a record, steady state: {both:,.0f} records/s per core ({both / floor_best:.2f}x)')


if __name__ == '__main__':
    main()
