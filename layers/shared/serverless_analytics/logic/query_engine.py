"""The query engine of this deployment: Athena in AWS, DuckDB over the same lake in the local stack."""

from functools import cache

from serverless_analytics.config import QueryEngineKind, Settings
from serverless_analytics.cube.engines import QueryEngine


def query_engine(settings: Settings) -> QueryEngine:
    """One engine per container, whatever other settings change: its executions must outlive a request."""
    if settings.QUERY_ENGINE is QueryEngineKind.ATHENA:
        return _athena(settings.ATHENA_WORKGROUP, settings.GLUE_DATABASE)
    return _duckdb(
        settings.LAKE_BUCKET,
        settings.LAKE_PREFIX,
        settings.AWS_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.QUERY_STATE_TTL_SECONDS,  # a kept query state may name an execution that long
    )


@cache
def _athena(workgroup: str, database: str) -> QueryEngine:
    from serverless_analytics.cube.engines import AthenaEngine

    return AthenaEngine(workgroup, database)


@cache
def _duckdb(bucket: str, prefix: str, endpoint_url: str | None, region: str, retention_seconds: int) -> QueryEngine:
    from serverless_analytics.cube.engines import S3LakeDuckDBEngine

    return S3LakeDuckDBEngine(bucket, prefix, endpoint_url, region, result_retention_seconds=retention_seconds)
