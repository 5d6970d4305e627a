"""Settings read once from the environment into a model (never read os.environ elsewhere)."""

import os
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ResourceName = Annotated[str, Field(min_length=1)]


class IpAnonymization(StrEnum):
    TRUNCATE = 'truncate'  # IPv4 /24, IPv6 /48
    DROP = 'drop'
    NONE = 'none'


class QueryEngineKind(StrEnum):
    ATHENA = 'athena'
    DUCKDB = 'duckdb'  # the local stack: DuckDB in-process over the same lake


class Settings(BaseModel):
    """Every setting of every function; each function's template entry sets the ones it uses."""

    model_config = ConfigDict(extra='ignore', frozen=True)

    # The stack's resources: no defaults, so that a function missing one fails at its first invocation with an
    # error naming it, instead of reaching for a resource of an invented name.
    EVENTS_STREAM_NAME: ResourceName
    API_KEYS_TABLE: ResourceName
    EVENTS_TABLE: ResourceName
    COUNTERS_TABLE: ResourceName
    LAKE_BUCKET: ResourceName
    ROLLUP_STATE_TABLE: ResourceName
    AGGREGATES_TABLE: ResourceName
    USERS_TABLE: ResourceName
    LAKE_PREFIX: str = 'events'
    USAGE_PREFIX: str = 'usage'
    QUARANTINE_PREFIX: str = 'quarantine'

    IP_ANONYMIZATION: IpAnonymization = IpAnonymization.TRUNCATE
    FUTURE_TOLERANCE_SECONDS: Annotated[int, Field(ge=0)] = 3600
    EVENT_ID_TTL_DAYS: Annotated[int, Field(ge=1)] = 30
    MAX_BODY_BYTES: Annotated[int, Field(ge=1024)] = 1_048_576
    MAX_PROPERTIES_BYTES: Annotated[int, Field(ge=256)] = 16_384
    MAX_PROPERTIES_DEPTH: Annotated[int, Field(ge=1)] = 5

    # The stream writer's event source mapping, reported by the stats endpoint.
    STREAM_BATCH_SIZE: Annotated[int, Field(ge=1)] = 2000
    STREAM_BATCHING_WINDOW_SECONDS: Annotated[int, Field(ge=0)] = 5

    # Lake compaction: small files are merged into files of up to this size (Parquet bytes; a merge peaks at
    # about 19x that in Arrow memory, so the function's MemorySize bounds it).
    LAKE_COMPACTION_TARGET_BYTES: Annotated[int, Field(ge=1024)] = 64 << 20
    # No partition is started with less time left than this (the next run goes on).
    LAKE_COMPACTION_RESERVE_SECONDS: Annotated[float, Field(ge=0)] = 120.0

    # The usage rollup: no (project, day) is started with less time left than this (the next run goes on).
    USAGE_ROLLUP_RESERVE_SECONDS: Annotated[float, Field(ge=0)] = 60.0

    # The user status job: an active user with no event for longer than this becomes dormant (Coder: 90 days).
    DORMANCY_DAYS: Annotated[int, Field(ge=1)] = 90

    # The insights routes that run SQL over the usage buckets: past this, a backend failure (API Gateway's 30 s).
    INSIGHTS_QUERY_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=28)] = 25.0

    # The query API (Cube-compatible load / dry-run / meta).
    QUERY_ENGINE: QueryEngineKind = QueryEngineKind.ATHENA
    QUERY_STATE_TABLE: ResourceName
    ATHENA_WORKGROUP: ResourceName
    GLUE_DATABASE: ResourceName
    QUERY_WAIT_SECONDS: Annotated[float, Field(gt=0, le=25)] = 5.0  # then Cube's "Continue wait"
    QUERY_STATE_TTL_SECONDS: Annotated[int, Field(ge=60)] = 900
    # Read by the local DuckDB engine, whose S3 reader (pyarrow) does not look at botocore's variables.
    AWS_ENDPOINT_URL: str | None = None
    AWS_REGION: str = 'us-east-1'
    TOKEN_SECRET_ARN: ResourceName
    TOKEN_TTL_SECONDS: Annotated[int, Field(ge=30, le=86_400)] = 180
    TOKEN_ISSUER: str = 'serverless-product-analytics'

    # The events export (Fluid Topics-compatible events and event counts).
    EXPORT_MAX_PER_PAGE: Annotated[int, Field(ge=1, le=10_000)] = 1000
    EXPORT_QUERY_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=28)] = 25.0
    # Lambda answers at most 6 MB; a page estimated above this asks the caller for a smaller perPage.
    EXPORT_MAX_PAGE_BYTES: Annotated[int, Field(ge=65_536)] = 5_000_000

    KINESIS_PUT_ATTEMPTS: Annotated[int, Field(ge=1)] = 4
    KINESIS_BACKOFF_BASE_SECONDS: Annotated[float, Field(ge=0)] = 0.05


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; a missing or invalid one raises pydantic's error, which names it."""
    return Settings.model_validate(os.environ)
