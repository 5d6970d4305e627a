"""Liveness, and a deeper check that the stream, the tables and the lake bucket answer."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb, kinesis, s3
from serverless_analytics.config import Settings
from serverless_analytics.models.api import ComponentHealth, HealthResponse
from serverless_analytics.observability import logger


@dataclass(frozen=True)
class HealthReport:
    status_code: int
    body: HealthResponse


def _probe(name: str, check: Callable[[], str]) -> ComponentHealth:
    try:
        detail = check()
    except Exception as error:  # noqa: BLE001 - any failure of a dependency is what this reports
        logger.warning('Health check failed', extra={'component': name}, exc_info=True)
        return ComponentHealth(name=name, healthy=False, detail=_kind_of(error))
    return ComponentHealth(name=name, healthy=detail in ('ACTIVE', 'OK'), detail=detail)


def _kind_of(error: Exception) -> str:
    """The AWS error code or the exception's type, never its message: the route is public, and AWS messages
    name the account, roles and resources."""
    code = getattr(error, 'response', {}).get('Error', {}).get('Code')
    return code or type(error).__name__


def _bucket_ok(bucket: str) -> str:
    s3.head_bucket(bucket)
    return 'OK'


def check_health(settings: Settings, deep: bool) -> HealthReport:
    now = clock.now()
    if not deep:
        return HealthReport(HTTPStatus.OK, HealthResponse(status='healthy', timestamp=now))
    components = [
        _probe('stream', lambda: kinesis.describe_stream(settings.EVENTS_STREAM_NAME)),
        *(
            _probe(f'table:{table}', partial(dynamodb.table_status, table))
            for table in (settings.API_KEYS_TABLE, settings.EVENTS_TABLE, settings.COUNTERS_TABLE)
        ),
        _probe('bucket', lambda: _bucket_ok(settings.LAKE_BUCKET)),
    ]
    healthy = all(component.healthy for component in components)
    status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
    return HealthReport(
        status, HealthResponse(status='healthy' if healthy else 'degraded', timestamp=now, components=components)
    )
