"""In-process DuckDB over the Parquet lake (Hive layout `events/project_id=<p>/dt=<YYYY-MM-DD>/*.parquet`, and the
usage rollup's `usage/project_id=<p>/dt=<YYYY-MM-DD>/{buckets,builds}.parquet` and
`usage/project_id=<p>/catalogue/catalogue.parquet`, and the user-session index
`usage/project_id=<p>/user_sessions/<day>.parquet`)."""

import glob
import os
import re
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from serverless_analytics.engines.base import QueryEngine, QueryExecutionError, QueryResult, ResultColumn
from serverless_analytics.logic.app_catalogue import CATALOGUE_SCHEMA
from serverless_analytics.logic.usage_buckets import BUCKET_SCHEMA
from serverless_analytics.logic.user_sessions import FOLDER as USER_SESSIONS_FOLDER
from serverless_analytics.logic.user_sessions import SCHEMA as USER_SESSIONS_SCHEMA
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA
from serverless_analytics.models.errors import UnknownExecutionError

_NO_FILES = 'No files found that match the pattern'
# Results are kept as long as a kept query state may still name their execution: the deployment's engine is
# given QUERY_STATE_TTL_SECONDS (logic.query_engine); engines made by hand (tests, benches) keep its default.
DEFAULT_RESULT_RETENTION_SECONDS = 900
# Within that time, results already handed out are kept up to this many values (rows x columns, about 70 bytes
# each as Python objects: 35 MB); past it the oldest handed out go first. Retention by time alone let a client
# grow the process by every result it asked for in 15 minutes (hundreds of MB in the local stack). A plan that
# polls a forgotten result gets UnknownExecutionError and runs again (logic.cube_queries).
DEFAULT_KEPT_VALUES = 500_000
_VALUES_PER_RESULT = 32  # what a kept result costs without its rows (future, ids, lists): about 2 KB


def lake_source_for(root: str) -> str:
    """The DuckDB scan of the lake under `root` (a directory or an s3:// URL; trusted configuration only).

    Partition columns are read as VARCHAR, as Athena's projection declares them, so `dt` compares as text.
    """
    escaped = root.rstrip('/').replace("'", "''")
    return (
        f"read_parquet('{escaped}/events/*/*/*.parquet', hive_partitioning = true, "
        "hive_types = {'project_id': 'VARCHAR', 'dt': 'VARCHAR'})"
    )


_HIVE_TYPES = "hive_partitioning = true, hive_types = {'project_id': 'VARCHAR', 'dt': 'VARCHAR'}"
_PROJECT_FOLDER = re.compile(r'[A-Za-z0-9_-]+')
# Past this many partitions the project's one glob is as quick as their list.
MAX_LISTED_PARTITIONS = 400


def partition_scan(root: str, project_id: str, dt_low: str | None, dt_high: str | None) -> str | None:
    """The scan of one project's `dt` partitions in [dt_low, dt_high] of a lake on this machine's disk, as the list of
    their folders; None where that does not apply (an s3:// lake, no such project folder, no partition in range).

    Why: DuckDB lists every file a glob matches before its hive filter drops most of them; on a year of two projects
    that is ~35 ms before a one-day query reads anything, where the day's folder alone takes ~2 ms (issue 17's
    bench against Cube, which prunes the same way with FILTER_PARAMS).
    """
    project = Path(root) / 'events' / f'project_id={project_id}'
    if '://' in root or not _PROJECT_FOLDER.fullmatch(project_id) or not project.is_dir():
        return None
    days = sorted(
        entry.name
        for entry in os.scandir(project)
        if entry.is_dir() and entry.name.startswith('dt=') and (dt_low or '') <= entry.name[3:] <= (dt_high or '~')
    )
    if not days or len(days) > MAX_LISTED_PARTITIONS:
        return None
    paths = ', '.join(_quoted(f'{project / day}/*.parquet') for day in days)
    return f'read_parquet([{paths}], {_HIVE_TYPES})'


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Rollup:
    """One kind of file of the usage rollup, each in the folders of its project (`usage/project_id=<p>/<folder>/`):
    the days' (`dt=<day>`), or a folder of its own (`catalogue`, `user_sessions`) whose only partition is the
    project. `file_name` may be a glob (the user-session index has a file per day)."""

    file_name: str
    schema: pa.Schema
    partitions: tuple[str, ...] = ('project_id', 'dt')
    folder: str = '*'


USAGE_BUCKETS = Rollup('buckets.parquet', BUCKET_SCHEMA)
WORKSPACE_BUILDS = Rollup('builds.parquet', BUILD_SCHEMA)
APP_CATALOGUE = Rollup('catalogue.parquet', CATALOGUE_SCHEMA, partitions=('project_id',), folder='catalogue')
USER_SESSIONS = Rollup('*.parquet', USER_SESSIONS_SCHEMA, partitions=('project_id',), folder=USER_SESSIONS_FOLDER)
_DUCKDB_TYPES = {
    pa.string(): 'VARCHAR',
    pa.int32(): 'INTEGER',
    pa.int64(): 'BIGINT',
    pa.float32(): 'FLOAT',
    pa.timestamp('ms', tz='UTC'): 'TIMESTAMPTZ',
}


def rollup_pattern(root: str, rollup: Rollup, project_id: str | None = None) -> str:
    """The glob of the rollup's files under the lake `root`: every project's, or one project's."""
    project = '*' if project_id is None else f'project_id={project_id}'
    return f'{root.rstrip("/")}/usage/{project}/{rollup.folder}/{rollup.file_name}'


def rollup_source_for(root: str, rollup: Rollup, project_id: str | None = None) -> str:
    """The DuckDB scan of one kind of rollup file under the lake `root`, partitions as text as in `lake_source_for`."""
    escaped = rollup_pattern(root, rollup, project_id).replace("'", "''")
    types = ', '.join(f"'{name}': 'VARCHAR'" for name in rollup.partitions)
    return f"read_parquet('{escaped}', hive_partitioning = true, hive_types = {{{types}}})"


def empty_source(schema: pa.Schema) -> str:
    """A relation with the rollup's columns and the partition columns, and no rows: the rollup before its first file
    (a scan of no file fails the whole statement, and an answer must still list its empty intervals)."""
    columns = [f'CAST(NULL AS {_DUCKDB_TYPES[field.type]}) AS "{field.name}"' for field in schema]
    columns += ['CAST(NULL AS VARCHAR) AS project_id', 'CAST(NULL AS VARCHAR) AS dt']
    return f'(SELECT {", ".join(columns)} WHERE false)'


class DuckDBEngine(QueryEngine):
    """Runs queries on one DuckDB connection; `start` runs them on a small thread pool, each on its own cursor."""

    dialect = 'duckdb'
    db_type = 'duckdb'

    def __init__(
        self,
        lake_root: str | None = None,
        *,
        lake_source: str | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        workers: int = 4,
        result_retention_seconds: float = DEFAULT_RESULT_RETENTION_SECONDS,
        kept_values: int = DEFAULT_KEPT_VALUES,
    ):
        if (lake_root is None) == (lake_source is None):
            raise ValueError('Give exactly one of lake_root and lake_source')
        self.lake_source = lake_source if lake_source is not None else lake_source_for(str(lake_root))
        self._lake_root = None if lake_root is None else str(lake_root)
        self.connection = connection or duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix='duckdb-query')
        self._running: dict[str, Future] = {}
        self._finished_at: dict[str, float] = {}
        self._handed_out: dict[str, int] = {}  # execution id -> values kept, oldest first
        self._lock = threading.Lock()
        self.result_retention_seconds = result_retention_seconds
        self.kept_values = kept_values

    def partition_source(self, project_id: str, dt_low: str | None, dt_high: str | None) -> str | None:
        if self._lake_root is None:
            return None
        return partition_scan(self._lake_root, project_id, dt_low, dt_high)

    def user_sessions_source(self, project_id: str) -> str | None:
        """The project's index files; None before the first (or for a project id that cannot be a folder name)."""
        root = self._lake_root
        if root is None or not _PROJECT_FOLDER.fullmatch(project_id):
            return None
        if not self._has_file(rollup_pattern(root, USER_SESSIONS, project_id)):
            return None
        return rollup_source_for(root, USER_SESSIONS, project_id)

    @property
    def usage_source(self) -> str:
        return self._rollup_source(USAGE_BUCKETS)

    @property
    def builds_source(self) -> str:
        return self._rollup_source(WORKSPACE_BUILDS)

    @property
    def catalogue_source(self) -> str:
        return self._rollup_source(APP_CATALOGUE)

    def _rollup_source(self, rollup: Rollup) -> str:
        """The rollup's files under the lake root, looked for at each use (the rollup writes while queries run); an
        engine given only an events source has no rollup."""
        if self._lake_root is None or not self._has_file(rollup_pattern(self._lake_root, rollup)):
            return empty_source(rollup.schema)
        return rollup_source_for(self._lake_root, rollup)

    def _has_file(self, pattern: str) -> bool:
        if '://' not in pattern:  # on this machine's disk: the first match, where DuckDB's glob lists them all first
            return next(glob.iglob(pattern), None) is not None  # noqa: PTH207 (Path.glob takes no absolute pattern)
        cursor = self.connection.cursor()
        try:
            return cursor.execute('SELECT 1 FROM glob(?) LIMIT 1', [pattern]).fetchone() is not None
        finally:
            cursor.close()

    def start(self, sql: str) -> str:
        execution_id = str(uuid.uuid4())

        def job() -> QueryResult:
            # Noted inside the job, not in a done-callback: Future runs those after done() is already True, so a
            # caller could see the result, start again, and find this one not yet marked finished.
            try:
                return self._run(sql)
            finally:
                self._finished_at.setdefault(execution_id, time.monotonic())

        with self._lock:
            self._forget_old_results()
            self._running[execution_id] = self._pool.submit(job)
        return execution_id

    def wait_until_finished(self, execution_ids: Sequence[str], timeout: float | None) -> None:
        """The queries run on this process's pool, so their end is known: no poll tax on an in-process engine."""
        with self._lock:
            futures = [self._running[i] for i in execution_ids if i in self._running]
        futures_wait(futures, timeout=timeout)

    def poll(self, execution_id: str) -> QueryResult | None:
        """A finished execution answers every poll, as Athena's do: a plan resumed after "Continue wait" polls
        again the statements that had finished while another was still running."""
        with self._lock:
            future = self._running.get(execution_id)
        if future is None:
            raise UnknownExecutionError(execution_id)
        if not future.done():
            return None
        result = future.result()
        values = len(result.rows) * len(result.columns) + _VALUES_PER_RESULT
        with self._lock:
            if execution_id in self._running:  # not forgotten meanwhile
                self._handed_out.setdefault(execution_id, values)
        return result

    def _forget_old_results(self) -> None:
        """Results past their retention, then the oldest handed out beyond the kept values; never a result no
        poll has had yet, which its request is about to read."""
        cutoff = time.monotonic() - self.result_retention_seconds
        for execution_id, finished in list(self._finished_at.items()):
            if finished < cutoff:
                self._forget(execution_id)
        kept = sum(self._handed_out.values())
        for execution_id, values in list(self._handed_out.items()):
            if kept <= self.kept_values:
                break
            self._forget(execution_id)
            kept -= values

    def _forget(self, execution_id: str) -> None:
        self._running.pop(execution_id, None)
        self._finished_at.pop(execution_id, None)
        self._handed_out.pop(execution_id, None)

    def execute(self, sql: str, timeout: float | None = None) -> QueryResult:
        return self._run(sql)

    def _run(self, sql: str) -> QueryResult:
        cursor = self._cursor(sql)
        try:
            relation = cursor.sql(sql)
            if relation is None:
                return QueryResult()
            table = relation.to_arrow_table()
        except duckdb.IOException as error:
            if _NO_FILES in str(error):  # an empty lake is a lake without rows, not an error
                return QueryResult()
            raise QueryExecutionError(str(error)) from error
        except duckdb.Error as error:
            raise QueryExecutionError(str(error)) from error
        finally:
            cursor.close()
        columns = [ResultColumn(f.name, str(f.type)) for f in table.schema]
        data = table.to_pydict()
        rows = list(zip(*(data[f.name] for f in table.schema), strict=True)) if columns else []
        return QueryResult(columns, rows)

    def _cursor(self, sql: str) -> duckdb.DuckDBPyConnection:
        """A cursor to run `sql` on (an engine over other storage registers there the sources `sql` names)."""
        return self.connection.cursor()

    def close(self) -> None:
        # Queries not yet started are dropped; running ones are waited for, since DuckDB refuses to close a
        # connection one of its cursors is still using.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.connection.close()
