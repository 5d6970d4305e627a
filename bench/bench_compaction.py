"""Lake compaction compute: records per second per core merged, and the Arrow memory a merge takes.

Small files are what the stream writer really writes: 2,000-record batches of the ingest path's events, one
Parquet file per project and UTC day (bench_stream_writer's trigger events). Each partition's files are planned
(ids read, duplicates found) and merged into one file, as `compact_partition` does between its S3 calls. The
peak of Arrow's memory pool against the partition's Parquet bytes is what sizes the function's memory for
LAKE_COMPACTION_TARGET_BYTES. One process, one core. No target is set for it.
"""

import io
import time
from collections import defaultdict

import pyarrow as pa

from bench.bench_stream_writer import lake_files_of, trigger_event
from serverless_analytics.lake import compaction

BATCHES = 40


def writer_files() -> dict[str, list[bytes]]:
    """The writer's files of BATCHES batches, by partition folder."""
    partitions: dict[str, list[bytes]] = defaultdict(list)
    for seed in range(BATCHES):
        for key, body in lake_files_of(trigger_event(seed)):
            partitions[key.rsplit('/', 1)[0]].append(body)
    return partitions


def compact(folder: str, bodies: list[bytes], target: int) -> tuple[int, int]:
    """Plan and merge one partition; returns (records, merged bytes)."""
    by_key = {f'{folder}/part-{i:04d}.parquet': body for i, body in enumerate(bodies)}
    files = [
        compaction.FileIds(compaction.LakeFile(key, len(body)), compaction.read_ids(io.BytesIO(body)))
        for key, body in by_key.items()
    ]
    merged_bytes = 0
    for group in compaction.plan_partition(files, target).groups:
        merged_bytes += len(compaction.merge([by_key[f.key] for f in group.inputs], group.keep))
    return sum(f.ids.num_rows for f in files), merged_bytes


def main() -> None:
    partitions = writer_files()
    largest = max(partitions, key=lambda folder: sum(map(len, partitions[folder])))
    bodies = partitions[largest]
    parquet_in = sum(map(len, bodies))
    pool = pa.default_memory_pool()
    compact(largest, bodies, target=1 << 40)  # warm-up
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        records, merged = compact(largest, bodies, target=1 << 40)
        rates.append(records / (time.perf_counter() - started))
    print(
        f'lake compaction: {max(rates):,.0f} records/s per core (median {sorted(rates)[1]:,.0f}); '
        f'{len(bodies)} writer files of one partition, {records:,} records, {parquet_in / 1e6:.1f} MB '
        f'-> one file of {merged / 1e6:.1f} MB'
    )
    print(
        f'lake compaction: Arrow memory peak {pool.max_memory() / 1e6:.0f} MB for {parquet_in / 1e6:.1f} MB of '
        f'Parquet in ({pool.max_memory() / parquet_in:.1f}x)'
    )


if __name__ == '__main__':
    main()
