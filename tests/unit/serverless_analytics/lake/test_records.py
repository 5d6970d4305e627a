import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serverless_analytics.lake.records import (
    decode,
    object_key,
    parquet_bytes,
    per_row,
    per_row_hour,
    strings,
    to_file_schema,
)
from serverless_analytics.lake.schema import FILE_SCHEMA
from tests.unit.serverless_analytics.conftest import RECEIVED_AT, stream_record_data


def test_a_clean_batch_decodes_in_record_order():
    records = [stream_record_data(event_name=f'e{i}', user={'id': f'u{i}', 'groups': ['g']}) for i in range(5)]

    decoded = decode(records)

    assert decoded.bad == {}
    assert decoded.good == [0, 1, 2, 3, 4]
    assert decoded.rows['name'].to_pylist() == ['e0', 'e1', 'e2', 'e3', 'e4']
    assert decoded.rows['user_groups'].to_pylist() == [['g']] * 5


def test_malformed_records_are_singled_out_and_the_rest_kept():
    good = stream_record_data()
    missing_name = json.dumps({k: v for k, v in json.loads(good).items() if k != 'name'}).encode()
    wrong_type = good.replace(b'"offline":false', b'"offline":"no"')
    two_lines = b'{"a":1}\n{"b":2}'
    two_objects = good + b' ' + stream_record_data(event_name='second')  # one line: Arrow reads two rows
    records = [good, b'not json', missing_name, wrong_type, two_lines, b'[1,2]', two_objects, b'', good]

    decoded = decode(records)

    assert decoded.good == [0, 8]
    assert sorted(decoded.bad) == [1, 2, 3, 4, 5, 6, 7]
    assert 'required' in decoded.bad[2]
    assert decoded.rows['name'].to_pylist() == ['view', 'view']


def test_a_record_with_fields_the_schema_does_not_know_is_malformed_and_they_are_named():
    # Given: a producer newer than this writer adds fields between two records it knows
    newer = _with_fields(stream_record_data(event_name='newer'), plan='pro', seats=3)

    decoded = decode([stream_record_data(event_name='first'), newer, stream_record_data(event_name='last')])

    # Then: that record is not kept without its fields; the others are kept
    assert (decoded.good, decoded.bad) == ([0, 2], {1: 'record has fields the event schema does not know: plan, seats'})
    assert decoded.rows['name'].to_pylist() == ['first', 'last']
    assert 'plan' not in decoded.rows.column_names


def test_a_batch_whose_every_record_has_an_unknown_field_keeps_none():
    records = [_with_fields(stream_record_data(event_name=f'e{i}'), plan='pro') for i in range(3)]

    decoded = decode(records)

    assert (decoded.good, sorted(decoded.bad)) == ([], [0, 1, 2])


def test_a_record_without_fields_added_after_its_producer_was_made_still_decodes():
    # Given: an older producer's record, which lacks fields that are not required (null in the lake)
    older = _without_fields(stream_record_data(event_name='older'), 'client_id', 'is_bot', 'template_id')

    decoded = decode([older, stream_record_data()])

    assert (decoded.good, decoded.bad) == ([0, 1], {})
    assert decoded.rows['is_bot'].to_pylist() == [None, False]


def test_a_blank_record_cannot_make_up_for_a_record_of_two_objects():
    # Given: one line per record, as a clean batch, but the blank record yields no row and the last one two
    two_objects = stream_record_data(event_name='second') + b' ' + stream_record_data(event_name='third')

    decoded = decode([stream_record_data(event_name='first'), b'', two_objects])

    # Then: no record is given another's row
    assert (decoded.good, sorted(decoded.bad)) == ([0], [1, 2])
    assert decoded.rows['name'].to_pylist() == ['first']


_DECODE_IN_A_CHILD = """
import sys
from serverless_analytics.lake.records import decode
decoded = decode([b'null', sys.stdin.buffer.read()])
print(decoded.good, sorted(decoded.bad))
"""


def test_a_bare_null_first_in_a_batch_is_malformed_rather_than_a_crash():
    # pyarrow 20's JSON reader kills the process (SIGSEGV) on a leading null: decoded in a child process, so that
    # a crash fails this test instead of ending the run.
    child = subprocess.run(
        [sys.executable, '-c', _DECODE_IN_A_CHILD],
        input=stream_record_data(),
        capture_output=True,
        env={**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)},
        timeout=120,
    )

    assert (child.returncode, child.stdout.decode().strip()) == (0, '[1] [0]'), child.stderr.decode()[-2000:]


def test_records_need_not_be_compact_to_decode():
    # Given: a record with surrounding whitespace and one ending in CRLF, neither as the ingest API writes them
    records = [
        b'  ' + stream_record_data(event_name='spaced') + b'\n',
        stream_record_data(event_name='crlf') + b'\r\n',
        stream_record_data(),
    ]

    decoded = decode(records)

    assert (decoded.good, decoded.bad) == ([0, 1, 2], {})
    assert decoded.rows['name'].to_pylist() == ['spaced', 'crlf', 'view']


def _with_fields(data: bytes, **fields: Any) -> bytes:
    """A stream record's data with fields set or added, as a producer other than this ingest API might send it."""
    return json.dumps({**json.loads(data), **fields}).encode()


def _without_fields(data: bytes, *names: str) -> bytes:
    return json.dumps({k: v for k, v in json.loads(data).items() if k not in names}).encode()


def test_event_hours_are_the_utc_hours_of_the_event_time():
    stamps = ['2026-03-01T23:30:00-02:00', '2026-03-01T00:10:00+01:00', '1969-12-31T23:59:59.999Z']
    decoded = decode([_with_fields(stream_record_data(), timestamp=stamp) for stamp in stamps])

    hours = per_row_hour(decoded.rows, lambda hour: hour)

    assert hours == [
        datetime(2026, 3, 2, 1, tzinfo=UTC),
        datetime(2026, 2, 28, 23, tzinfo=UTC),
        datetime(1969, 12, 31, 23, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    'values',
    [['a', 'b', 'a', 'a'], ['a', None, 'b', None], [], ['é', 'naïve', '', '日本']],
    ids=['repeats', 'nulls', 'empty', 'non-ascii'],
)
def test_column_values_read_from_buffers_equal_pyarrows(values):
    # Given: the column as one chunk, and sliced into two chunks with offsets
    array = pa.array(values, pa.string())
    chunked = [pa.chunked_array([array], pa.string()), pa.chunked_array([array[:1], array[1:]], pa.string())]

    for column in chunked:
        assert strings(column) == values
        assert per_row(column) == values
        assert per_row(column, lambda value: f'<{value}>') == [f'<{v}>' if v is not None else None for v in values]


def test_parquet_files_hold_the_file_schema_without_partition_columns():
    decoded = decode([stream_record_data(properties={'k': 1}), stream_record_data()])

    table = pq.read_table(io.BytesIO(parquet_bytes(to_file_schema(decoded.rows))))

    assert table.schema.equals(FILE_SCHEMA)
    assert 'project_id' not in table.column_names
    assert table['properties'].to_pylist() == ['{"k":1}', '{}']
    assert table['timestamp'].to_pylist()[0] == RECEIVED_AT  # no timestamp sent: the receive time


def test_object_keys_are_hive_partitioned_and_depend_only_on_the_records():
    first = object_key('events', 'p1', '2026-11-22', ['3', '1', '2'])
    assert first.startswith('events/project_id=p1/dt=2026-11-22/part-')
    assert first == object_key('events', 'p1', '2026-11-22', ['1', '2', '3'])
    assert first != object_key('events', 'p1', '2026-11-22', ['1', '2'])
