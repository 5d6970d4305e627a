"""The query engine of this deployment: Athena in AWS, DuckDB over the same lake in the local stack."""

from functools import cache

from serverless_analytics.config import QueryEngineKind, Settings
from serverless_analytics.engines import QueryEngine


def query_engine(settings: Settings) -> QueryEngine:
    """One engine per container, whatever other settings change: its executions must outlive a request."""
    if settings.QUERY_ENGINE is QueryEngineKind.ATHENA:
        return _athena(settings.ATHENA_WORKGROUP, settings.GLUE_DATABASE)
    return _local_lake(
        settings.LAKE_BUCKET,
        settings.LAKE_PREFIX,
        settings.AWS_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.QUERY_STATE_TTL_SECONDS,  # a kept query state may name an execution that long
    )


@cache
def _athena(workgroup: str, database: str) -> QueryEngine:
    from serverless_analytics.engines import AthenaEngine

    return AthenaEngine(workgroup, database)


@cache
def _local_lake(bucket: str, prefix: str, endpoint_url: str | None, region: str, retention_seconds: int) -> QueryEngine:
    # QUERY_ENGINE=duckdb exists only in the local stack (local/environment.py sets it), which runs the handlers
    # from the repository, where the dev-only `local` package is importable; the layer never ships it.
    from local.lake_engine import LocalLakeDuckDBEngine

    return LocalLakeDuckDBEngine(bucket, prefix, endpoint_url, region, result_retention_seconds=retention_seconds)
