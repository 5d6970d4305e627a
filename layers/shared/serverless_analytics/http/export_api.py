"""The events export's HTTP side (Fluid Topics shape): request parsing, credentials first, one error shape.

Every error answers `{"error": {"code": <status>, "message": "<what is wrong>"}}`; FT does not document its
own error body, so this one names the status and the problem and nothing else.
"""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from serverless_analytics.config import Settings
from serverless_analytics.http.common import json_object_body, json_response, refusal_for, resolve_as, validated
from serverless_analytics.logic.api_keys import authenticate
from serverless_analytics.models.api_key import Scope
from serverless_analytics.models.errors import AnalyticsError
from serverless_analytics.models.export import EventCountsRequest, EventsRequest, ExportRequestError, PagingRequest
from serverless_analytics.observability import logger

UNAVAILABLE = 'The query backend is unavailable or too slow for this request; retry later or narrow the range'


def error_body(status: int, message: str) -> dict[str, Any]:
    return {'error': {'code': int(status), 'message': message}}


def _plain(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return json_response(status, error_body(status, message), headers)


def _bad_request(error: ExportRequestError) -> Response:
    return Response(HTTPStatus.BAD_REQUEST, content_types.APPLICATION_JSON, body=error_body(400, str(error)))


def _unavailable(error: Exception) -> Response:
    logger.exception('Export query failed')
    status = HTTPStatus.SERVICE_UNAVAILABLE
    return Response(status, content_types.APPLICATION_JSON, body=error_body(status, UNAVAILABLE))


def _routing_error(error: ServiceError) -> Response:
    """Powertools' own answers (an unknown route is a 404), in the family's shape: not a backend failure."""
    return Response(error.status_code, content_types.APPLICATION_JSON, body=error_body(error.status_code, error.msg))


def export_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    app.exception_handler(ExportRequestError)(_bad_request)
    app.exception_handler(ServiceError)(_routing_error)
    # Everything else (Athena or DynamoDB failing, a query out of time, anything unexpected) gets the family's
    # "backend unavailable" answer, not a bare 500; Powertools picks the handler of the nearest class.
    app.exception_handler(Exception)(_unavailable)
    return app


def resolve_export_route(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, settings: Settings
) -> dict[str, Any]:
    """The credential first (before the body is read), then the route; the project is the credential's."""
    return resolve_as(
        app, event, context, lambda: authenticate(settings, event.get('headers') or {}, Scope.READ), _refusal
    )


def _refusal(error: AnalyticsError) -> dict[str, Any]:
    return _plain(*refusal_for(error))


def events_request(app: APIGatewayHttpResolver, settings: Settings) -> EventsRequest:
    """The body, with the `page` and `per_page` query parameters winning over `paging` (FT's convention); the
    page size is checked against `settings`."""
    body = json_object_body(app, ExportRequestError)
    overrides = _paging_overrides(app.current_event.query_string_parameters or {})
    if overrides:
        paging = body.get('paging')
        paging = dict(paging) if isinstance(paging, dict) else {}
        body['paging'] = {**PagingRequest.largest_first(settings), **paging, **overrides}
    return validated(EventsRequest, body, ExportRequestError, context=settings)


def event_counts_request(app: APIGatewayHttpResolver) -> EventCountsRequest:
    return validated(EventCountsRequest, json_object_body(app, ExportRequestError), ExportRequestError)


def _paging_overrides(params: dict[str, str]) -> dict[str, int]:
    overrides = {}
    for param, field in (('page', 'page'), ('per_page', 'perPage')):
        if param in params:
            try:
                overrides[field] = int(params[param])
            except ValueError:
                raise ExportRequestError(f'Query parameter {param} must be an integer') from None
    return overrides
