"""Stream records as the ingest functions put them, for the tests of what the stream writer reads."""

from datetime import UTC, datetime
from typing import Any

from local.environment import stack_settings
from serverless_analytics.logic.enrich import RequestContext, enrich
from serverless_analytics.logic.ingest import to_stream_record
from serverless_analytics.models.event import TrackEventRequest

RECEIVED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def stream_record_data(**event: Any) -> bytes:
    """The data of the stream record for one tracked event of project p1, received at RECEIVED_AT."""
    request = TrackEventRequest.model_validate({'event_name': 'view', **event})
    context = RequestContext(project_id='p1', received_at=RECEIVED_AT)
    return to_stream_record(enrich(request, context, stack_settings())).data


def http_api_event(path: str, body: str = '{}', headers: dict[str, str] | None = None, method: str = 'POST') -> dict:
    """An API Gateway HTTP API (payload 2.0) event, as the `$default` stage sends it."""
    return {
        'version': '2.0',
        'routeKey': f'{method} {path}',
        'rawPath': path,
        'rawQueryString': '',
        'headers': headers or {},
        'requestContext': {
            'http': {'method': method, 'path': path, 'protocol': 'HTTP/1.1', 'sourceIp': '192.0.2.1', 'userAgent': 't'},
            'stage': '$default',
            'routeKey': f'{method} {path}',
        },
        'body': body,
        'isBase64Encoded': False,
    }
