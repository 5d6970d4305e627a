import io
import random
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serverless_analytics.lake.compaction import (
    FileIds,
    LakeFile,
    Partition,
    RangedReader,
    merge,
    merged_key,
    partitions,
    plan_partition,
    read_ids,
    worth_compacting,
)
from serverless_analytics.lake.records import decode, parquet_bytes, to_file_schema
from serverless_analytics.lake.schema import FILE_SCHEMA
from tests.unit.serverless_analytics.conftest import RECEIVED_AT, stream_record_data

FOLDER = 'events/project_id=p1/dt=2026-11-22'


def _uuid(n: int) -> str:
    return f'00000000-0000-4000-8000-{n:012d}'


def lake_file(copies: list[tuple[int, int]]) -> bytes:
    """A lake file as the writer makes it, of (event number, seconds after RECEIVED_AT it was received)."""
    records = [
        stream_record_data(event_id=_uuid(n), event_name=f'e{n}', timestamp=f'2026-11-22T{n % 24:02d}:00:00Z')
        for n, _ in copies
    ]
    rows = to_file_schema(decode(records).rows)
    received = pa.array([RECEIVED_AT + timedelta(seconds=s) for _, s in copies], FILE_SCHEMA.field('received_at').type)
    return parquet_bytes(rows.set_column(rows.schema.get_field_index('received_at'), 'received_at', received))


def file_ids(name: str, body: bytes, size: int | None = None) -> FileIds:
    return FileIds(
        LakeFile(f'{FOLDER}/{name}.parquet', len(body) if size is None else size), read_ids(io.BytesIO(body))
    )


def merged_rows(plan, bodies: dict[str, bytes]) -> list[list[dict]]:
    return [
        pq.read_table(io.BytesIO(merge([bodies[f.key] for f in group.inputs], group.keep))).to_pylist()
        for group in plan.groups
    ]


def test_partitions_groups_lake_files_and_leaves_anything_else_alone():
    files = [
        LakeFile('events/project_id=1/dt=2026-11-21/part-a.parquet', 10),
        LakeFile('events/project_id=1/dt=2026-11-21/compacted-b.parquet', 20),
        LakeFile('events/project_id=2/dt=2026-11-21/part-c.parquet', 30),
        LakeFile('events/project_id=1/dt=2026-11-21/notes.txt', 1),
        LakeFile('events/project_id=1/dt=21-11-2026/part-d.parquet', 1),
        LakeFile('events/project_id=1/dt=2026-11-21/deeper/part-e.parquet', 1),
        LakeFile('eventsX/project_id=1/dt=2026-11-21/part-f.parquet', 1),
    ]

    assert partitions('events', files) == {
        Partition('1', '2026-11-21'): files[:2],
        Partition('2', '2026-11-21'): [files[2]],
    }


def test_only_partitions_of_several_files_one_of_them_small_are_worth_compacting():
    assert not worth_compacting([LakeFile('a', 10)], 100)
    assert not worth_compacting([LakeFile('a', 100), LakeFile('b', 200)], 100)
    assert worth_compacting([LakeFile('a', 100), LakeFile('b', 99)], 100)


def test_small_files_merge_into_one_and_each_event_keeps_its_first_received_copy():
    # Given: event 2 in two files (received 5 s apart), event 3 twice in one of them... as a redelivery leaves it
    bodies = {
        'part-a': lake_file([(1, 0), (2, 9)]),
        'part-b': lake_file([(2, 4), (3, 0)]),
        'part-c': lake_file([(4, 0)]),
    }
    ids = [file_ids(name, body) for name, body in bodies.items()]

    plan = plan_partition(ids, target_bytes=1 << 20)

    assert plan.duplicates == 1
    assert len(plan.groups) == 1
    assert plan.groups[0].inputs == tuple(f.file for f in ids)
    assert plan.groups[0].output_key.startswith(f'{FOLDER}/compacted-')
    (rows,) = merged_rows(plan, {f'{FOLDER}/{name}.parquet': body for name, body in bodies.items()})
    assert sorted(r['event_id'] for r in rows) == [_uuid(n) for n in (1, 2, 3, 4)]
    kept_2 = next(r for r in rows if r['event_id'] == _uuid(2))
    assert kept_2['received_at'] == RECEIVED_AT + timedelta(seconds=4)


def test_a_copy_in_a_big_file_wins_and_only_the_small_file_is_rewritten():
    big, small = lake_file([(1, 5), (2, 5)]), lake_file([(2, 0), (3, 0)])
    ids = [file_ids('compacted-big', big, size=1000), file_ids('part-small', small, size=10)]

    plan = plan_partition(ids, target_bytes=100)

    assert plan.duplicates == 1
    (group,) = plan.groups
    assert group.inputs == (ids[1].file,)
    (rows,) = merged_rows(plan, {ids[1].file.key: small})
    assert [r['event_id'] for r in rows] == [_uuid(3)]


def test_a_compacted_partition_plans_nothing_more():
    ids = [file_ids('compacted-big', lake_file([(1, 0)]), size=1000), file_ids('part-new', lake_file([(2, 0)]), 10)]

    assert plan_partition(ids, target_bytes=100) == ([], 0)


def test_two_big_files_sharing_an_event_drop_the_later_received_copy():
    first, second = lake_file([(1, 0), (2, 0)]), lake_file([(1, 3), (3, 0)])
    ids = [file_ids('compacted-1', first, size=1000), file_ids('compacted-2', second, size=1000)]

    plan = plan_partition(ids, target_bytes=100)

    (group,) = plan.groups
    assert group.inputs == (ids[1].file,)
    assert [r['event_id'] for r in merged_rows(plan, {ids[1].file.key: second})[0]] == [_uuid(3)]


def test_small_files_are_grouped_up_to_the_target_size_in_name_order():
    ids = [file_ids(f'part-{i}', lake_file([(i, 0)]), size=40) for i in range(5)]

    plan = plan_partition(ids, target_bytes=100)

    assert [[f.key.rsplit('/', 1)[1] for f in g.inputs] for g in plan.groups] == [
        ['part-0.parquet', 'part-1.parquet'],
        ['part-2.parquet', 'part-3.parquet'],
        # part-4 alone holds nothing to drop: left for a later run
    ]


def test_merged_key_depends_on_the_inputs_only():
    keys = [f'{FOLDER}/part-b.parquet', f'{FOLDER}/part-a.parquet']

    assert merged_key(keys) == merged_key(list(reversed(keys)))
    assert merged_key(keys) != merged_key(keys[:1])
    assert merged_key(keys).startswith(f'{FOLDER}/compacted-')


def test_merge_keeps_every_column_and_orders_rows_by_event_time():
    bodies = [lake_file([(5, 0), (1, 0)]), lake_file([(3, 0)])]
    originals = {r['event_id']: r for body in bodies for r in pq.read_table(io.BytesIO(body)).to_pylist()}

    merged = pq.read_table(io.BytesIO(merge(bodies, [pa.array([0, 1]), pa.array([0])])))

    assert merged.schema.names == FILE_SCHEMA.names
    rows = merged.to_pylist()
    assert [r['timestamp'].hour for r in rows] == [1, 3, 5]
    assert {r['event_id']: r for r in rows} == originals


def test_random_partitions_match_a_plain_python_dedupe():
    rng = random.Random(7)
    for _ in range(20):
        copies = [[(rng.randrange(30), rng.randrange(100)) for _ in range(rng.randrange(1, 8))] for _ in range(6)]
        bodies = {f'{FOLDER}/part-{i}.parquet': lake_file(c) for i, c in enumerate(copies)}
        ids = [FileIds(LakeFile(key, len(body)), read_ids(io.BytesIO(body))) for key, body in bodies.items()]

        plan = plan_partition(ids, target_bytes=1 << 30)

        # Reference: every event once, with its earliest receive time
        earliest: dict[str, int] = {}
        for file in copies:
            for n, seconds in file:
                earliest[_uuid(n)] = min(seconds, earliest.get(_uuid(n), seconds))
        (rows,) = merged_rows(plan, bodies)
        assert sorted(r['event_id'] for r in rows) == sorted(earliest)
        assert {r['event_id']: (r['received_at'] - RECEIVED_AT).seconds for r in rows} == earliest
        assert plan.duplicates == sum(len(c) for c in copies) - len(earliest)


@pytest.mark.parametrize('events', [1, 20_000])  # one event, and a file larger than pyarrow's 64 KiB footer read
def test_a_ranged_reader_reads_the_same_ids_fetching_only_what_it_needs(events):
    body = lake_file([(n, n % 50) for n in range(events)])
    fetched = []

    def read_range(start: int, length: int) -> bytes:
        fetched.append(min(length, len(body) - start))
        return body[start : start + length]

    ranged = read_ids(RangedReader(read_range, len(body)))

    assert ranged.equals(read_ids(io.BytesIO(body)))
    if events > 1:
        assert sum(fetched) < len(body)


def test_a_small_file_of_nothing_but_copies_keeps_nothing():
    big, small = lake_file([(1, 0), (2, 0), (3, 0)]), lake_file([(2, 0), (3, 0)])
    ids = [file_ids('compacted-big', big, size=1000), file_ids('part-redelivered', small, size=10)]

    plan = plan_partition(ids, target_bytes=100)

    (group,) = plan.groups
    assert (group.inputs, group.keeps_nothing, plan.duplicates) == ((ids[1].file,), True, 2)
