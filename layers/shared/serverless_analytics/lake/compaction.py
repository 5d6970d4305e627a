"""Lake compaction: a partition's small files merged into few, each event id kept once.

The stream writer writes one file per batch, project and UTC day, so a busy partition gathers many small
files, which Athena lists and opens one by one. And a failure between the writer's lake write and its DynamoDB
write can leave a second copy of an event in another file (see logic/write_events). Compaction mends both.

It is idempotent: the plan depends only on the files of the partition, a merged file's name only on the files
it replaces, and it is written before they are deleted. A run stopped at any point leaves every event in the
lake, at worst twice until the next run.
"""

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from serverless_analytics.lake.records import parquet_bytes
from serverless_analytics.lake.schema import FILE_SCHEMA

ID_COLUMNS = ('event_id', 'received_at')


class LakeFile(NamedTuple):
    key: str
    size: int


class Partition(NamedTuple):
    project_id: str
    dt: str


class FileIds(NamedTuple):
    """A file's event ids and receive times (its ID_COLUMNS), row by row."""

    file: LakeFile
    ids: pa.Table


class MergeGroup(NamedTuple):
    """Files to replace by one: the rows to keep of each, and the name of the file that replaces them."""

    inputs: tuple[LakeFile, ...]
    keep: tuple[pa.Array, ...]  # row indices of each input that survive
    output_key: str

    @property
    def keeps_nothing(self) -> bool:
        """Every row is a copy of one kept elsewhere: the inputs are deleted and nothing is written."""
        return not any(len(rows) for rows in self.keep)


class PartitionPlan(NamedTuple):
    groups: list[MergeGroup]
    duplicates: int  # rows that are another row's event again, dropped by the groups


def partitions(prefix: str, files: Iterable[LakeFile]) -> dict[Partition, list[LakeFile]]:
    """The lake files under `prefix` by partition (anything else under it is left alone)."""
    pattern = re.compile(re.escape(prefix) + r'/project_id=([^/]+)/dt=(\d{4}-\d{2}-\d{2})/[^/]+\.parquet')
    found: dict[Partition, list[LakeFile]] = {}
    for file in files:
        match = pattern.fullmatch(file.key)
        if match:
            found.setdefault(Partition(*match.groups()), []).append(file)
    return found


def worth_compacting(files: Sequence[LakeFile], target_bytes: int) -> bool:
    """Two or more files, one of them small. A lone file holds each event once (the writer and compaction both
    dedupe what they write), and files at the target size are left as they are."""
    return len(files) > 1 and any(file.size < target_bytes for file in files)


def plan_partition(files: Sequence[FileIds], target_bytes: int) -> PartitionPlan:
    """Which files to merge, and which rows of them to keep.

    Of the copies of an event, the one kept is in a file at the target size if there is one (so big files are
    rewritten only to drop a duplicate), else the one received first, then the first by name and row. Small
    files are merged in name order into groups of at most `target_bytes`."""
    ordered = sorted(files, key=lambda f: f.file.key)
    small = [f.file.size < target_bytes for f in ordered]
    kept = _kept_rows(ordered, small)
    dropped = [f.ids.num_rows - len(rows) for f, rows in zip(ordered, kept, strict=True)]
    groups = [[i] for i in range(len(ordered)) if not small[i] and dropped[i]]
    groups += _by_size([i for i in range(len(ordered)) if small[i]], [f.file.size for f in ordered], target_bytes)
    planned = [
        MergeGroup(
            tuple(ordered[i].file for i in group),
            tuple(kept[i] for i in group),
            merged_key([ordered[i].file.key for i in group]),
        )
        for group in groups
        if len(group) > 1 or dropped[group[0]]  # a lone file with nothing to drop stays as it is
    ]
    return PartitionPlan(planned, sum(dropped))


def _kept_rows(files: Sequence[FileIds], small: Sequence[bool]) -> list[pa.Array]:
    """Per file, the indices of its rows that are the kept copy of their event (by Arrow: a day can hold
    millions of rows)."""
    candidates = pa.concat_tables(
        [
            pa.table(
                {
                    'event_id': f.ids['event_id'],
                    'small': pa.repeat(pa.scalar(small[i]), f.ids.num_rows),
                    'received_at': f.ids['received_at'],
                    'file': pa.repeat(pa.scalar(i, pa.int32()), f.ids.num_rows),
                    'row': pa.array(range(f.ids.num_rows), pa.int64()),
                }
            )
            for i, f in enumerate(files)
        ]
    ).sort_by([(name, 'ascending') for name in ('event_id', 'small', 'received_at', 'file', 'row')])
    event_ids = candidates['event_id'].combine_chunks()
    # A missing id (the writer never writes one) compares as null: kept, never dropped.
    later_copy = pc.fill_null(pc.not_equal(event_ids[1:], event_ids[:-1]), True)
    first_copy = pa.concat_arrays([pa.array([True] if len(event_ids) else []), later_copy])
    survivors = (
        candidates.filter(first_copy).select(['file', 'row']).sort_by([('file', 'ascending'), ('row', 'ascending')])
    )
    counts = survivors.group_by('file').aggregate([('row', 'count')])
    per_file = dict(zip(counts['file'].to_pylist(), counts['row_count'].to_pylist(), strict=True))
    rows = survivors['row'].combine_chunks()
    kept, offset = [], 0
    for index in range(len(files)):
        kept.append(rows.slice(offset, per_file.get(index, 0)))
        offset += per_file.get(index, 0)
    return kept


def _by_size(indices: list[int], sizes: list[int], target_bytes: int) -> list[list[int]]:
    groups: list[list[int]] = []
    total = 0
    for index in indices:
        if not groups or total + sizes[index] > target_bytes:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += sizes[index]
    return groups


def merged_key(input_keys: Sequence[str]) -> str:
    """The merged file's name, in the inputs' folder: derived from them, so a re-run of the same merge writes
    the same file again rather than a second copy."""
    folder = input_keys[0].rsplit('/', 1)[0]
    digest = hashlib.sha256('\n'.join(sorted(input_keys)).encode()).hexdigest()[:24]
    return f'{folder}/compacted-{digest}.parquet'


def read_ids(source: BinaryIO | io.RawIOBase) -> pa.Table:
    """The ID_COLUMNS of a lake file (from a RangedReader, only their column chunks are fetched)."""
    return pq.read_table(source, columns=list(ID_COLUMNS))


def merge(bodies: Sequence[bytes], keep: Sequence[pa.Array]) -> bytes:
    """One Parquet file of the kept rows of the files, in event time order (so row groups have narrow time
    statistics for the queries' time filters)."""
    tables = [pq.read_table(io.BytesIO(body)).take(rows) for body, rows in zip(bodies, keep, strict=True)]
    merged = pa.concat_tables([table.select(FILE_SCHEMA.names).cast(FILE_SCHEMA) for table in tables])
    return parquet_bytes(merged.sort_by([('timestamp', 'ascending'), ('event_id', 'ascending')]))


class RangedReader(io.RawIOBase):
    """A read-only, seekable file over ranged reads of a stored object.

    By hand because pyarrow's own S3 filesystem would bypass the boto3 adapters (and their endpoint and error
    handling); pyarrow reads a file-like object's footer and only the column chunks it is asked for."""

    def __init__(self, read_range: Callable[[int, int], bytes], size: int) -> None:
        super().__init__()
        self._read_range = read_range
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        data = self._read_range(self._position, length)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
