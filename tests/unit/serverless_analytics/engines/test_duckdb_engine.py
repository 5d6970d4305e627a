"""The in-process DuckDB engine: a lake directory read with its Hive partitions, executions started and polled
as Athena's are, and results forgotten after the retention the engine was given."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serverless_analytics.engines import DuckDBEngine, wait_for
from serverless_analytics.models.errors import UnknownExecutionError


@pytest.fixture
def engine():
    engine = DuckDBEngine(lake_source='lake')
    yield engine
    engine.close()


def test_a_lake_directory_is_read_with_its_partitions_as_text(tmp_path):
    folder = tmp_path / 'events' / 'project_id=007' / 'dt=2026-11-22'
    folder.mkdir(parents=True)
    pq.write_table(pa.table({'name': ['view', 'click']}), folder / 'part-1.parquet')
    engine = DuckDBEngine(str(tmp_path))

    result = engine.execute(f'SELECT project_id, dt, name FROM {engine.lake_source} ORDER BY name')

    assert result.rows == [('007', '2026-11-22', 'click'), ('007', '2026-11-22', 'view')]
    engine.close()


def test_a_lake_without_files_is_a_lake_without_rows(tmp_path):
    engine = DuckDBEngine(str(tmp_path))

    assert engine.execute(f'SELECT count(*) FROM {engine.lake_source}').rows == []
    engine.close()


def test_exactly_one_of_a_lake_root_and_a_lake_source_is_given():
    with pytest.raises(ValueError, match='exactly one'):
        DuckDBEngine()
    with pytest.raises(ValueError, match='exactly one'):
        DuckDBEngine('/lake', lake_source='lake')


def test_a_finished_execution_answers_every_poll(engine):
    # A plan resumed after "Continue wait" polls again the statements that finished while another ran on.
    execution_id = engine.start('SELECT 42 AS answer')
    [result] = wait_for(engine, [execution_id], timeout=5)

    assert result.rows == [(42,)]
    assert engine.poll(execution_id).rows == [(42,)]


def test_an_execution_the_engine_never_started_is_unknown(engine):
    with pytest.raises(UnknownExecutionError):
        engine.poll('not-an-execution')


def test_a_finished_result_is_forgotten_after_the_retention_the_engine_was_given():
    engine = DuckDBEngine(lake_source='lake', result_retention_seconds=0)
    first = engine.start('SELECT 1')
    wait_for(engine, [first], timeout=5)

    engine.start('SELECT 2')  # forgetting happens when an execution starts

    with pytest.raises(UnknownExecutionError):
        engine.poll(first)
    engine.close()


def test_an_in_process_engine_is_waited_on_never_slept_on():
    """No poll tax: wait_for blocks on the query's end, then polls once (a sleep here would fail the test)."""
    engine = DuckDBEngine(lake_source='lake')
    slept: list[float] = []
    try:
        execution = engine.start('SELECT count(*) AS n FROM range(3000000)')

        [result] = wait_for(engine, [execution], timeout=60, sleep=slept.append)

        assert (result.rows, slept) == ([(3000000,)], [])
    finally:
        engine.close()


def _lake(root, days: dict[str, list[str]]) -> None:
    for partition, names in days.items():
        folder = root / 'events' / partition
        folder.mkdir(parents=True)
        pq.write_table(pa.table({'name': names}), folder / 'part-1.parquet')


def test_a_projects_partitions_in_range_are_scanned_by_their_folders(tmp_path):
    _lake(
        tmp_path,
        {
            'project_id=1/dt=2026-11-20': ['before'],
            'project_id=1/dt=2026-11-22': ['in'],
            'project_id=1/dt=2026-11-24': ['after'],
            'project_id=2/dt=2026-11-22': ['other project'],
        },
    )
    engine = DuckDBEngine(str(tmp_path))

    source = engine.partition_source('1', '2026-11-21', '2026-11-23')

    assert source is not None and 'dt=2026-11-22' in source and 'dt=2026-11-20' not in source
    assert engine.execute(f'SELECT project_id, dt, name FROM {source}').rows == [('1', '2026-11-22', 'in')]
    # a range with days that have no folder lists only those that have one; none at all is the whole lake's scan
    assert engine.partition_source('1', '2026-11-21', '2026-12-31') is not None
    assert engine.partition_source('1', '2026-12-01', '2026-12-31') is None
    engine.close()


@pytest.mark.parametrize('project_id', ['3', "1' OR 'x", '../2'])
def test_no_partition_scan_for_a_project_without_a_folder_or_with_a_name_no_folder_can_have(tmp_path, project_id):
    _lake(tmp_path, {'project_id=1/dt=2026-11-22': ['in']})
    engine = DuckDBEngine(str(tmp_path))

    assert engine.partition_source(project_id, None, None) is None
    engine.close()


def test_an_s3_lake_or_a_given_source_is_scanned_whole():
    s3 = DuckDBEngine('s3://bucket/lake')
    given = DuckDBEngine(lake_source='lake')

    assert (s3.partition_source('1', None, None), given.partition_source('1', None, None)) == (None, None)
    s3.close()
    given.close()


def _user_sessions(root, project: str, day: str, sessions: list[str]) -> None:
    folder = root / 'usage' / f'project_id={project}' / 'user_sessions'
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({'session_id': sessions, 'user_id': [f'user of {s}' for s in sessions]}), folder / day)


def test_a_projects_user_session_index_is_read_from_its_own_folder_only(tmp_path):
    _user_sessions(tmp_path, '1', '2026-11-21.parquet', ['s1', 's2'])
    _user_sessions(tmp_path, '1', '2026-11-22.parquet', ['s3'])
    _user_sessions(tmp_path, '2', '2026-11-22.parquet', ['other project'])
    _lake(tmp_path, {'project_id=1/dt=2026-11-22': ['an event']})
    engine = DuckDBEngine(str(tmp_path))

    source = engine.user_sessions_source('1')

    assert source is not None
    rows = engine.execute(f'SELECT project_id, session_id, user_id FROM {source} ORDER BY session_id').rows
    assert rows == [('1', 's1', 'user of s1'), ('1', 's2', 'user of s2'), ('1', 's3', 'user of s3')]
    engine.close()


@pytest.mark.parametrize('project_id', ['1', '3', '1/../2', "a'b", '*', '2/user_sessions/..'])
def test_no_user_session_index_for_a_project_without_files_or_with_a_name_no_folder_can_have(tmp_path, project_id):
    _lake(tmp_path, {'project_id=1/dt=2026-11-22': ['an event']})  # events, but no index for project 1 yet
    _user_sessions(tmp_path, '2', '2026-11-22.parquet', ['s1'])
    engine = DuckDBEngine(str(tmp_path))

    assert engine.user_sessions_source(project_id) is None
    engine.close()


def test_an_engine_given_its_source_has_no_user_session_index():
    engine = DuckDBEngine(lake_source='lake')

    assert engine.user_sessions_source('1') is None
    engine.close()
