"""Stream writer compute: records per second per core from the Kinesis trigger event's JSON to Parquet bytes.

Batches of the template's `StreamBatchSize` go through the real `write_events` handler as the runtime calls it:
the trigger JSON is parsed, then the handler decodes the records, checks them against the Arrow schema, plans
them (all new), writes one Parquet file per project and UTC day, the DynamoDB event items and counters, and the
user directory. The AWS clients are in-memory stubs (bench/common.StubAws), so the figure is the writer's CPU
alone, a superset of "to Parquet bytes". One process, one core. Target: >= 100,000 records/s.

The handler is measured twice. Steady state: the stub remembers the users table, so after the first pass every
user is one the directory has seen in that hour (its entry is read and left as it is), as in production after a
user's first batch of the hour. First sighting: the users table always reads empty, so every user of every batch
is new and written (once per user and hour in production). `--profile` prints cProfile's top entries for the
steady state instead, by cumulative and by own time.

It also prints the issue's narrower figure, from the trigger JSON to Parquet bytes only: the same steps of the
handler up to the lake files (parse, decode and check the records, plan them, one Parquet file per project and
day), without the DynamoDB items and counters.

And the floor under both: the steps no writer of one-JSON-event records can skip (the runtime's parse of the
trigger JSON, base64, Arrow's JSON read with the record checks `decode` makes, one Parquet file of the rows) and
nothing else: no planning, no per-day files, no DynamoDB. What separates it from the target no change to the
rest of our code can close. And the steady state again without the user directory's read and merge, which is what
the directory costs the writer (a measure, not a configuration of the product).
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
from unittest import mock

from bench.common import StubAws, aws_stubbed, batches, best_rates, lambda_context  # first: puts the layer on the path
from local.environment import required_settings_environment, stack_settings

# The handler and the event model read the settings from the environment, as in Lambda: the local stack's names.
os.environ.update(required_settings_environment())

from functions.write_events.app import lambda_handler, stream_records  # noqa: E402
from local.poller import kinesis_trigger_event  # noqa: E402
from local.template import Template  # noqa: E402
from serverless_analytics.lake import records as lake  # noqa: E402
from serverless_analytics.logic import user_directory  # noqa: E402
from serverless_analytics.logic.enrich import RequestContext  # noqa: E402
from serverless_analytics.logic.ingest import partition_key, prepare, to_stream_record  # noqa: E402
from serverless_analytics.logic.write_events import lake_files, plan, prepare_batch  # noqa: E402
from serverless_analytics.models.event import TrackEventRequest  # noqa: E402

WRITER = Template.load().stream_writer
BATCH = WRITER.kinesis.batch_size
ROUNDS = max(1, 5000 // BATCH)
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


def handler_work(raw_events: list[str]) -> Callable[[], int]:
    """The handler over every trigger event, as `best_rates` times it."""
    context = lambda_context(WRITER.logical_id)

    def work() -> int:
        # The handler prints its metrics (EMF) to stdout after each batch, as in Lambda; kept out of the output.
        with contextlib.redirect_stdout(io.StringIO()):
            for raw in raw_events:
                write(raw, context)
        return BATCH * ROUNDS

    return work


def profile(raw_events: list[str]) -> None:
    """cProfile of the handler in the steady state, its top entries by cumulative and by own time."""
    work = handler_work(raw_events)
    with aws_stubbed(StubAws(remembered=[USERS_TABLE])):
        work()  # the warm-up: every user's first sighting, then the runs profiled
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [work() for _ in range(5)])
    stats = pstats.Stats(profiler)
    for order in ('cumulative', 'tottime'):
        stats.sort_stats(order).print_stats(PROFILE_ENTRIES)


def main() -> None:
    raw_events = [trigger_event(seed) for seed in range(ROUNDS)]
    if '--profile' in sys.argv:
        profile(raw_events)
        return
    work = handler_work(raw_events)
    # Steady state: the users table remembered, so after the warm-up every user is one the directory has seen in
    # that hour (no write), as in production after a user's first batch of the hour.
    remembering = StubAws(remembered=[USERS_TABLE])
    with aws_stubbed(remembering):
        work()
        seen_before = remembering.transactions
        work()
        steady_transactions = remembering.transactions - seen_before
    # First sighting: the users table always reads empty, so every user of every batch is new and written.
    with aws_stubbed() as stub:
        work()
        parquet_bytes = stub.object_bytes
        transactions, transaction_items = stub.transactions, stub.transaction_items

    def steady() -> int:
        with aws_stubbed(remembering):
            return work()

    def first_sighting() -> int:
        with aws_stubbed():
            return work()

    def without_directory() -> int:
        # What the writer would do if the directory were kept by a consumer of its own (issue 17's note): not a
        # configuration the product has, a measure of what the directory costs the writer.
        with aws_stubbed(remembering), mock.patch.object(user_directory, 'record_users', lambda *args: None):
            return work()

    def parquet_only() -> int:
        written = sum(to_parquet(raw) for raw in raw_events)
        assert written == parquet_bytes, 'the narrow path must write what the handler writes'
        return BATCH * ROUNDS

    def floor_only() -> int:
        for raw in raw_events:
            floor(raw)
        return BATCH * ROUNDS

    rates = best_rates([floor_only, parquet_only, steady, first_sighting, without_directory])
    (floor_best, floor_median), (parquet_best, parquet_median), (best, median), (first_best, first_median) = rates[:4]
    bare_best, bare_median = rates[4]
    print(
        f'stream writer floor, the trigger parse, base64, Arrow JSON read and Parquet write alone: '
        f'{floor_best:,.0f} records/s per core (median {floor_median:,.0f})'
    )
    print(
        f'stream writer, trigger JSON to Parquet bytes only: {parquet_best:,.0f} records/s per core '
        f'(median {parquet_median:,.0f}; {parquet_best / floor_best:.2f}x the floor); target >= 100,000'
    )
    print(
        f'stream writer, users seen before (steady state): {best:,.0f} records/s per core (median {median:,.0f}; '
        f'{best / floor_best:.2f}x the floor; {BATCH}-record batches; '
        f'{parquet_bytes / (BATCH * ROUNDS):.0f} Parquet bytes/record); target >= 100,000'
    )
    print(
        f'stream writer, every user new in every batch (first sighting): {first_best:,.0f} records/s per core '
        f'(median {first_median:,.0f}; {first_best / floor_best:.2f}x the floor)'
    )
    print(
        f'stream writer without the user directory (its cost to the writer): {bare_best:,.0f} records/s per core '
        f'(median {bare_median:,.0f}; {bare_best / floor_best:.2f}x the floor)'
    )
    print(
        f'stream writer: {transactions / ROUNDS:.0f} DynamoDB transactions of {transaction_items / transactions:.0f} '
        f'items per {BATCH}-record batch, users first seen; {steady_transactions / ROUNDS:.0f} in the steady state'
    )


if __name__ == '__main__':
    main()
