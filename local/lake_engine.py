"""The local stack's query engine: DuckDB over the lake bucket of the local AWS endpoint (moto's S3).

DuckDB's own S3 support is its httpfs extension, which DuckDB downloads at run time; the build machines
cannot, and pyarrow (already in the stack for the writer) reads S3 itself. The dataset is listed again for
every query, so files the stream writer adds are seen at once; DuckDB pushes the `project_id` and `dt`
predicates into the dataset scan, which prunes Hive partitions as Athena's projection does. The usage rollup's
files (buckets, builds and the app catalogues, all in `usage/`) are three more datasets, each of its own file
name. The user-session index (logic.user_sessions) is a fifth: the files of the projects' `user_sessions` folders.
"""

import fnmatch

import duckdb
import pyarrow as pa
import pyarrow.dataset as pa_ds
import pyarrow.fs as pa_fs

from serverless_analytics.engines.duckdb_engine import (
    APP_CATALOGUE,
    USAGE_BUCKETS,
    USER_SESSIONS,
    WORKSPACE_BUILDS,
    DuckDBEngine,
    Rollup,
)
from serverless_analytics.lake.schema import FILE_SCHEMA, PARTITION_COLUMNS

# Partition columns are text, as Athena's projection declares them, so `dt` compares as text.
_PARTITIONS = pa.schema([pa.field(name, pa.string()) for name in PARTITION_COLUMNS])
_LAKE_SCHEMA = pa.schema([*FILE_SCHEMA, *_PARTITIONS])


class LocalLakeDuckDBEngine(DuckDBEngine):
    """DuckDB over `s3://<bucket>/<prefix>/` of the local endpoint, read through pyarrow's S3 filesystem."""

    VIEW = 'lake_events'
    USAGE_VIEW = 'lake_usage_buckets'
    BUILDS_VIEW = 'lake_workspace_builds'
    CATALOGUE_VIEW = 'lake_app_catalogue'
    USER_SESSIONS_VIEW = 'lake_user_sessions'

    def __init__(
        self,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        region: str,
        result_retention_seconds: float,
        usage_prefix: str = 'usage',
    ):
        super().__init__(lake_source=self.VIEW, result_retention_seconds=result_retention_seconds)
        self._root = f'{bucket}/{prefix.strip("/")}'
        self._usage_root = f'{bucket}/{usage_prefix.strip("/")}'
        self._partitioning = pa_ds.partitioning(_PARTITIONS, flavor='hive')
        scheme, _, host = (endpoint_url or '').partition('://')
        self._filesystem = pa_fs.S3FileSystem(
            region=region, endpoint_override=host or None, scheme=scheme or 'https', allow_bucket_creation=False
        )

    @property
    def usage_source(self) -> str:
        return self.USAGE_VIEW

    @property
    def builds_source(self) -> str:
        return self.BUILDS_VIEW

    @property
    def catalogue_source(self) -> str:
        return self.CATALOGUE_VIEW

    def user_sessions_source(self, project_id: str) -> str | None:
        folder = f'{self._usage_root}/project_id={project_id}/{USER_SESSIONS.folder}'
        listed = self._filesystem.get_file_info(pa_fs.FileSelector(folder, allow_not_found=True))
        return self.USER_SESSIONS_VIEW if any(info.type == pa_fs.FileType.File for info in listed) else None

    def _dataset(self) -> pa_ds.Dataset:
        try:
            return pa_ds.dataset(
                self._root,
                filesystem=self._filesystem,
                format='parquet',
                partitioning=self._partitioning,
                schema=_LAKE_SCHEMA,
            )
        except FileNotFoundError:  # nothing written yet: S3 has no folders, so the lake is not there at all
            return pa_ds.dataset(_LAKE_SCHEMA.empty_table())

    def _rollup_dataset(self, rollup: Rollup) -> pa_ds.Dataset:
        """The rollup's files (of its name, in its folders: the days' folders hold two kinds), or no rows before the
        first is written."""
        partitions = pa.schema([pa.field(name, pa.string()) for name in rollup.partitions])
        schema = pa.schema([*rollup.schema, *partitions])
        selector = pa_fs.FileSelector(self._usage_root, recursive=True, allow_not_found=True)
        pattern = f'{self._usage_root}/*/{rollup.folder}/{rollup.file_name}'
        paths = [
            info.path
            for info in self._filesystem.get_file_info(selector)
            if info.type == pa_fs.FileType.File and fnmatch.fnmatchcase(info.path, pattern)
        ]
        if not paths:
            return pa_ds.dataset(schema.empty_table())
        return pa_ds.dataset(
            paths,
            filesystem=self._filesystem,
            format='parquet',
            partitioning=pa_ds.partitioning(partitions, flavor='hive'),
            partition_base_dir=self._usage_root,
            schema=schema,
        )

    def _cursor(self, sql: str) -> duckdb.DuckDBPyConnection:
        """Each source the statement names, listed now (a listing costs a request to the endpoint)."""
        cursor = self.connection.cursor()
        if self.VIEW in sql:
            cursor.register(self.VIEW, self._dataset())
        if self.USAGE_VIEW in sql:
            cursor.register(self.USAGE_VIEW, self._rollup_dataset(USAGE_BUCKETS))
        if self.BUILDS_VIEW in sql:
            cursor.register(self.BUILDS_VIEW, self._rollup_dataset(WORKSPACE_BUILDS))
        if self.CATALOGUE_VIEW in sql:
            cursor.register(self.CATALOGUE_VIEW, self._rollup_dataset(APP_CATALOGUE))
        if self.USER_SESSIONS_VIEW in sql:
            cursor.register(self.USER_SESSIONS_VIEW, self._rollup_dataset(USER_SESSIONS))
        return cursor
