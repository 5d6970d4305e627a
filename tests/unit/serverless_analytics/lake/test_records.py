import io
import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
from pydantic_core import to_json

from serverless_analytics.config import Settings
from serverless_analytics.lake.records import decode, event_dates, object_key, parquet_bytes, to_file_schema
from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.enrich import RequestContext, enrich
from serverless_analytics.models.event import TrackEventRequest


def _record(**payload) -> bytes:
    request = TrackEventRequest.model_validate({'event_name': 'view', **payload})
    context = RequestContext(project_id='p1', received_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    return to_json(enrich(request, context, Settings()))


def test_a_clean_batch_decodes_in_record_order():
    records = [_record(event_name=f'e{i}', user={'id': f'u{i}', 'groups': ['g']}) for i in range(5)]

    decoded = decode(records)

    assert decoded.bad == {}
    assert decoded.good == [0, 1, 2, 3, 4]
    assert decoded.rows['name'].to_pylist() == ['e0', 'e1', 'e2', 'e3', 'e4']
    assert decoded.rows['user_groups'].to_pylist() == [['g']] * 5


def test_malformed_records_are_singled_out_and_the_rest_kept():
    good = _record()
    missing_name = json.dumps({k: v for k, v in json.loads(good).items() if k != 'name'}).encode()
    wrong_type = good.replace(b'"offline":false', b'"offline":"no"')
    two_lines = b'{"a":1}\n{"b":2}'
    records = [good, b'not json', missing_name, wrong_type, two_lines, b'[1,2]', good]

    decoded = decode(records)

    assert decoded.good == [0, 6]
    assert sorted(decoded.bad) == [1, 2, 3, 4, 5]
    assert 'required' in decoded.bad[2]
    assert decoded.rows.num_rows == 2


def test_event_dates_are_utc_days_of_the_event_time():
    decoded = decode([_record(timestamp='2026-03-01T23:30:00-02:00'), _record(timestamp='2026-03-01T00:10:00+01:00')])
    assert event_dates(decoded.rows) == ['2026-03-02', '2026-02-28']


def test_parquet_files_hold_the_file_schema_without_partition_columns():
    decoded = decode([_record(properties={'k': 1}), _record()])

    table = pq.read_table(io.BytesIO(parquet_bytes(to_file_schema(decoded.rows))))

    assert table.schema.equals(FILE_SCHEMA)
    assert 'project_id' not in table.column_names
    assert table['properties'].to_pylist() == ['{"k":1}', '{}']
    assert table['timestamp'].to_pylist()[0] == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_object_keys_are_hive_partitioned_and_depend_only_on_the_records():
    first = object_key('events', 'p1', '2026-11-22', ['3', '1', '2'])
    assert first.startswith('events/project_id=p1/dt=2026-11-22/part-')
    assert first == object_key('events', 'p1', '2026-11-22', ['1', '2', '3'])
    assert first != object_key('events', 'p1', '2026-11-22', ['1', '2'])
