"""Stream records (canonical event JSON, one object per record) to Arrow rows, and rows to Parquet files.

Records are parsed in bulk by Arrow's C++ JSON reader against the row schema: it is the validator
(wrong types, unparseable times and malformed JSON all fail) and it is ~50x faster than validating each
record with pydantic, which is what lets one writer keep up with a shard.
"""

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from serverless_analytics.lake.schema import FILE_SCHEMA, REQUIRED_COLUMNS, ROW_SCHEMA

# Arrow's JSON reader refuses to drop digits, and pydantic writes microseconds; parse at that precision and
# cast to the lake's milliseconds when writing.
_PARSE_SCHEMA = pa.schema(
    [pa.field(f.name, pa.timestamp('us', tz='UTC')) if pa.types.is_timestamp(f.type) else f for f in ROW_SCHEMA]
)
# A field the schema does not know fails the record, which is then quarantined and counted (write_events), never
# dropped: it comes from a producer newer than this writer (or a broken one), and ignoring it would lose that
# field's values for good without anyone noticing. Refusing the record instead (reporting it failed) would stall
# its shard behind it until the writer is updated; quarantine keeps its raw bytes to replay once it is.
_PARSE = pa_json.ParseOptions(explicit_schema=_PARSE_SCHEMA, unexpected_field_behavior='error')
_READ = pa_json.ReadOptions(use_threads=False, block_size=16 << 20)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class DecodedBatch:
    rows: pa.Table  # one row per good record, in record order
    good: list[int]  # index of the record each row came from
    bad: dict[int, str]  # index of each malformed record -> why


def _read(lines: bytes) -> pa.Table:
    return pa_json.read_json(io.BytesIO(lines), read_options=_READ, parse_options=_PARSE)


def _missing_required(rows: pa.Table) -> list[int]:
    missing = pc.is_null(rows[REQUIRED_COLUMNS[0]])
    for name in REQUIRED_COLUMNS[1:]:
        missing = pc.or_(missing, pc.is_null(rows[name]))
    return pc.indices_nonzero(missing).to_pylist()


_NOT_ONE_OBJECT = 'record is not a single-line JSON object'


def _is_one_object(payload: bytes) -> bool:
    stripped = payload.strip()
    return stripped.startswith(b'{') and b'\n' not in stripped and b'\r' not in stripped


def _decode_one(payload: bytes) -> pa.Table | str:
    if not _is_one_object(payload):
        return _NOT_ONE_OBJECT
    try:
        rows = _read(payload)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        return _unknown_fields(payload) or f'record does not match the event schema: {error}'
    if rows.num_rows != 1:  # one line, but `{...} {...}`: its second row would be taken for the next record's
        return _NOT_ONE_OBJECT
    if _missing_required(rows):
        return f'record lacks one of the required fields {", ".join(REQUIRED_COLUMNS)}'
    return rows


def _unknown_fields(payload: bytes) -> str | None:
    """Why a record Arrow refused was refused, when it is for fields the schema does not know (Arrow's message
    does not name them)."""
    try:
        record = json.loads(payload)
    except (ValueError, RecursionError):  # a record nested deeper than Python's stack
        return None
    unknown = [name for name in record if name not in _PARSE_SCHEMA.names] if isinstance(record, dict) else []
    if not unknown:
        return None
    return f'record has fields the event schema does not know: {", ".join(unknown)}'


def decode(payloads: Sequence[bytes]) -> DecodedBatch:
    """Parse every record; malformed ones are reported by index, never raised, so they cannot block a shard."""
    joined = b'\n'.join(payloads)
    if payloads and _one_object_per_line(payloads, joined):
        try:
            rows = _read(joined)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            rows = None
        if rows is not None and rows.num_rows == len(payloads) and not _missing_required(rows):
            return DecodedBatch(rows=rows, good=list(range(len(payloads))), bad={})
    return _decode_each(payloads)


def _one_object_per_line(payloads: Sequence[bytes], joined: bytes) -> bool:
    """Whether every record is one line starting an object: then one row per record means each was one object.

    It also keeps a bare `null` or a blank record out of the bulk read: pyarrow 20's JSON reader crashes the
    process on a leading null, and a blank line yields no row, which a record of two objects would make up for."""
    return (
        all(payload[:1] == b'{' for payload in payloads)
        and joined.count(b'\n') == len(payloads) - 1
        and b'\r' not in joined
    )


def _decode_each(payloads: Sequence[bytes]) -> DecodedBatch:
    """Slow path, for a batch the bulk read cannot vouch for (a malformed or non-compact record): record by record."""
    tables, good, bad = [], [], {}
    for index, payload in enumerate(payloads):
        result = _decode_one(payload)
        if isinstance(result, str):
            bad[index] = result
        else:
            tables.append(result)
            good.append(index)
    rows = pa.concat_tables(tables) if tables else _PARSE_SCHEMA.empty_table()
    return DecodedBatch(rows=rows, good=good, bad=bad)


def per_row[T](column: pa.ChunkedArray, convert: Callable[[Any], T] = _same) -> list[T | None]:
    """A column of few distinct values as one Python value per row, `convert`ed (None for a null row).

    Only the distinct values are converted, and rows share them."""
    encoded = column.combine_chunks().dictionary_encode()
    values = [convert(value) for value in encoded.dictionary.to_pylist()]
    indices = encoded.indices
    if indices.null_count or not len(indices):
        return [None if index is None else values[index] for index in indices.to_pylist()]
    return [values[index] for index in _int32s(indices)]


def strings(column: pa.ChunkedArray) -> list[str | None]:
    """A string column as Python strings (None for a null), read straight from its buffers.

    By hand because pyarrow's `to_pylist` makes a Scalar per value (~1.8 µs each here, 5x this)."""
    array = column.combine_chunks()
    if array.null_count == len(array):
        return [None] * len(array)
    _, offsets, data = array.buffers()
    ends = memoryview(offsets).cast('i')[array.offset : array.offset + len(array) + 1]
    text = data.to_pybytes() if data is not None else b''
    values: list[str | None] = [text[start:end].decode() for start, end in pairwise(ends)]
    if array.null_count:  # a null's slice is empty or anything: set apart by the validity bitmap
        nulls = pc.indices_nonzero(array.is_null())
        for row in memoryview(nulls.buffers()[1]).cast('Q')[nulls.offset : nulls.offset + len(nulls)]:
            values[row] = None
    return values


def int64s(column: pa.ChunkedArray) -> Sequence[int]:
    """The integers of a column of 64-bit values (int64, or a timestamp: its count of units since the epoch), read
    from its buffer for the reason of `strings`. No null: its slot holds any value."""
    array = column.combine_chunks()
    if array.null_count:
        raise ValueError(f'{array.null_count} nulls in a column read as integers')
    if not len(array):
        return []
    return memoryview(array.buffers()[1]).cast('q')[array.offset : array.offset + len(array)]


def _int32s(array: pa.Array) -> memoryview:
    """The values of an int32 array without nulls, by hand for the same reason as `strings`."""
    return memoryview(array.buffers()[1]).cast('i')[array.offset : array.offset + len(array)]


def per_row_hour[T](rows: pa.Table, convert: Callable[[datetime], T]) -> list[T | None]:
    """Each row's event time (UTC) truncated to the hour, `convert`ed.

    Arrow truncates the times, and only the batch's distinct hours become datetimes: pyarrow turns a
    tz-aware time into Python at ~20-130 µs a value (it looks for pytz each time)."""
    hours = pc.floor_temporal(rows['timestamp'], unit='hour').cast(pa.int64())
    return per_row(hours, lambda micros: convert(_EPOCH + timedelta(microseconds=micros)))


def to_file_schema(rows: pa.Table) -> pa.Table:
    """The decoded rows as the lake stores them: no partition columns, times in milliseconds."""
    return rows.select(FILE_SCHEMA.names).cast(FILE_SCHEMA, safe=False)


def parquet_bytes(rows: pa.Table) -> bytes:
    """One lake file of rows already in the file schema.

    Snappy: the AWS SDK for pandas layer's pyarrow lacks zstd. No stored Arrow schema (the Glue table is the
    schema, and Parquet's own types carry the UTC timestamps) and statistics only for the event time, which
    queries filter on: both cut the fixed cost of a small file by a quarter."""
    buffer = io.BytesIO()
    pq.write_table(rows, buffer, compression='snappy', store_schema=False, write_statistics=['timestamp'])
    return buffer.getvalue()


def object_key(prefix: str, project_id: str, dt: str, sequences: Sequence[str]) -> str:
    """A name derived from the records it holds, so a redelivered batch overwrites its own file."""
    digest = hashlib.sha256('\n'.join(sorted(sequences)).encode()).hexdigest()[:24]
    return f'{prefix}/project_id={project_id}/dt={dt}/part-{digest}.parquet'
