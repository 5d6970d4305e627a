"""The export family's HTTP shape (Fluid Topics): credentials first, requests validated by their models, and one
error body for every refusal.

Every error answers `{"error": {"code": <status>, "message": "<what is wrong>"}}`; FT does not document its own
error body, so this one names the status and the problem and nothing else.
"""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from serverless_analytics.config import Settings
from serverless_analytics.http.common import (
    BACKEND_ERRORS,
    ApiFamily,
    json_answer,
    raw_body,
    validation_problems,
    with_json_text_body,
)
from serverless_analytics.logic.api_keys import authenticate
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.errors import (
    ForbiddenError,
    InvalidCredentialError,
    NotAuthenticatedError,
    UnparsableBodyError,
)
from serverless_analytics.models.export import EventsRequest, ExportRequestError, PagingRequest
from serverless_analytics.observability import logger

UNAVAILABLE = 'The query backend is unavailable or too slow for this request; retry later or narrow the range'
BEARER_CHALLENGE = {'WWW-Authenticate': 'Bearer'}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {'error': {'code': int(status), 'message': message}}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_answer(status, error_body(status, message), headers)


class ExportApi(ApiFamily):
    """Every export route needs the `read` scope; the project is the credential's."""

    name = 'Export'
    error_statuses = {
        400: 'The request is not one the export takes; the message names the problem',
        401: 'No API key, or an unknown one',
        403: 'The key lacks the `read` scope',
        503: 'The query backend failed or took too long; retry later or narrow the range',
    }
    error_schema = {
        'type': 'object',
        'properties': {
            'error': {
                'type': 'object',
                'properties': {'code': {'type': 'integer'}, 'message': {'type': 'string'}},
                'required': ['code', 'message'],
            }
        },
        'required': ['error'],
    }

    def guard(self, event: dict[str, Any], settings: Settings) -> tuple[Principal | None, dict[str, Any]]:
        principal = authenticate(settings, event.get('headers') or {}, Scope.READ)
        # FT's services read the body as JSON whatever its content type says.
        routed = with_json_text_body(event, raw_body(event))
        return principal, {**routed, 'headers': {**(event.get('headers') or {}), 'content-type': 'application/json'}}

    def error_response(self, error: Exception, event: dict[str, Any]) -> Response:
        match error:
            case ExportRequestError():
                return _error(HTTPStatus.BAD_REQUEST, str(error))
            case RequestValidationError():
                return _error(HTTPStatus.BAD_REQUEST, validation_problems(list(error.errors())))
            case UnparsableBodyError():
                return _error(HTTPStatus.BAD_REQUEST, f'Request body is not valid JSON: {error}')
            case NotAuthenticatedError() | InvalidCredentialError():
                return _error(HTTPStatus.UNAUTHORIZED, str(error), BEARER_CHALLENGE)
            case ForbiddenError():
                return _error(HTTPStatus.FORBIDDEN, str(error))
            case ServiceError():  # Powertools' own answers (an unknown route is a 404): not a backend failure
                return _error(error.status_code, str(error.msg))
            case _ if isinstance(error, BACKEND_ERRORS):
                logger.exception('Export query failed')
                return _error(HTTPStatus.SERVICE_UNAVAILABLE, UNAVAILABLE)
            case _:
                logger.exception('Unexpected error')
                return _error(HTTPStatus.INTERNAL_SERVER_ERROR, 'Internal error')


def with_paging(request: EventsRequest, page: int | None, per_page: int | None, settings: Settings) -> EventsRequest:
    """The request with the `page` and `per_page` query parameters winning over `paging` (FT's convention), and
    without `paging` the first page of the largest size (FT's "everything" does not fit a Lambda answer)."""
    if page is None and per_page is None:
        return request
    given = request.paging.model_dump(by_alias=True) if request.paging else PagingRequest.largest_first(settings)
    overrides = {key: value for key, value in (('page', page), ('perPage', per_page)) if value is not None}
    try:
        paging = PagingRequest.model_validate({**given, **overrides}, context=settings)
    except ValidationError as problems:
        raise ExportRequestError(validation_problems([_in_paging(e) for e in problems.errors()])) from None
    return request.model_copy(update={'paging': paging})


def _in_paging(entry: Any) -> dict[str, Any]:
    return {**entry, 'loc': ('paging', *entry['loc'])}
