"""The insights family's HTTP shape (Coder's `/api/v2/insights/*` and `/api/v2/templates/{template}/daus`):
credentials where Coder's clients send them, and Coder's body, `{"message", "detail"?, "validations"?}`, for every
refusal and failure (spec insights-api-semantics §0).

The session token is read where Coder reads it, in its order: the `coder_session_token` cookie, the
`coder_session_token` query parameter, the `Coder-Session-Token` header; then `Authorization: Bearer`. The token
is an API key of this product with the `read` scope, and the project is the key's. The query parameter is taken
out of the routed event, so that the parameter parser never sees it (nor a log the credential).
"""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from serverless_analytics.config import Settings
from serverless_analytics.http.common import BACKEND_ERRORS, ApiFamily, json_answer
from serverless_analytics.logic.api_keys import authenticate
from serverless_analytics.logic.coder_params import INVALID_VALUES, SESSION_TOKEN_PARAM, parse_query, query_without
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.errors import (
    ForbiddenError,
    InsightsParamsError,
    InvalidCredentialError,
    NotAuthenticatedError,
)
from serverless_analytics.models.insights import CoderResponse, CoderValidationError
from serverless_analytics.observability import logger

SESSION_TOKEN_HEADER = 'coder-session-token'
SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.'
NO_CREDENTIAL = 'Cookie "coder_session_token" or query parameter must be provided.'
INVALID_CREDENTIAL = 'API key is invalid.'
FORBIDDEN = 'Forbidden.'
ROUTE_NOT_FOUND = 'Route not found.'
INTERNAL = 'Internal error fetching insights.'
BACKEND_FAILED = 'The insights backend failed or took too long; retry later.'
UNEXPECTED = 'An unexpected error occurred.'


def coder_body(message: str, detail: str = '', validations: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Coder's `codersdk.Response`; a byte of the request that is not UTF-8 is written as U+FFFD, as Go's encoder
    writes it."""
    entries = [CoderValidationError(field=_text(field), detail=_text(text)) for field, text in validations or []]
    return CoderResponse(message=_text(message), detail=_text(detail), validations=entries).model_dump(mode='json')


def _text(text: str) -> str:
    return ''.join('\ufffd' if 0xDC80 <= ord(char) <= 0xDCFF else char for char in text)


def _answer(status: int, message: str, detail: str = '', validations: list[tuple[str, str]] | None = None) -> Response:
    return json_answer(status, coder_body(message, detail, validations))


def session_token(event: dict[str, Any]) -> str | None:
    """The credential where Coder reads it, in Coder's order; an empty value counts as none."""
    headers = {name.lower(): value for name, value in (event.get('headers') or {}).items()}
    query_token = parse_query(event.get('rawQueryString') or '').get(SESSION_TOKEN_PARAM, [''])[0]
    scheme, _, bearer = headers.get('authorization', '').partition(' ')
    candidates = (
        _cookie(event, headers, SESSION_TOKEN_PARAM),
        query_token,
        headers.get(SESSION_TOKEN_HEADER, ''),
        bearer.strip() if scheme.lower() == 'bearer' else '',
    )
    return next((token for token in candidates if token), None)


def _cookie(event: dict[str, Any], headers: dict[str, str], name: str) -> str:
    """The first cookie called `name` (Go's `r.Cookie`), its double quotes removed; API Gateway's payload 2.0
    moves the `Cookie` header into `cookies`."""
    for cookie in event.get('cookies') or headers.get('cookie', '').split(';'):
        key, _, value = cookie.strip().partition('=')
        if key.strip() == name:
            return value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
    return ''


def without_session_token(event: dict[str, Any]) -> dict[str, Any]:
    """The event without the `coder_session_token` query parameter."""
    parameters = {k: v for k, v in (event.get('queryStringParameters') or {}).items() if k != SESSION_TOKEN_PARAM}
    routed = {**event, 'rawQueryString': query_without(event.get('rawQueryString') or '', SESSION_TOKEN_PARAM)}
    if 'queryStringParameters' in event:
        routed['queryStringParameters'] = parameters or None
    return routed


def query_values(event: dict[str, Any]) -> dict[str, list[str]]:
    """The query parameters as Coder's handlers read them (`r.URL.Query()`), the session token left out: what
    `logic.coder_params`'s parsers take."""
    values = parse_query(event.get('rawQueryString') or '')
    values.pop(SESSION_TOKEN_PARAM, None)
    return values


class InsightsApi(ApiFamily):
    """Every insights route needs the `read` scope; the project is the credential's."""

    name = 'Insights'
    error_statuses = {
        400: "Parameters Coder's server refuses, in its words: `validations` lists every problem of the parameters "
        'themselves, or names the one rule of times, interval or sections broken',
        401: 'No session token, or an unknown one (Coder-Session-Token header, coder_session_token cookie or query '
        'parameter, or Authorization: Bearer)',
        403: 'The key lacks the `read` scope',
        500: 'The insights backend failed or took too long, or an unexpected error; retry later',
    }
    error_schema = {
        'type': 'object',
        'properties': {
            'message': {'type': 'string'},
            'detail': {'type': 'string'},
            'validations': {
                'type': 'array',
                'items': {
                    'type': 'object',
                    'properties': {'field': {'type': 'string'}, 'detail': {'type': 'string'}},
                    'required': ['field', 'detail'],
                },
            },
        },
        'required': ['message'],
    }

    def guard(self, event: dict[str, Any], settings: Settings) -> tuple[Principal | None, dict[str, Any]]:
        token = session_token(event)
        if token is None:
            raise NotAuthenticatedError(NO_CREDENTIAL)
        principal = authenticate(settings, {SESSION_TOKEN_HEADER: token}, Scope.READ)
        return principal, without_session_token(event)

    def error_response(self, error: Exception, event: dict[str, Any]) -> Response:
        match error:
            case InsightsParamsError():
                return _answer(HTTPStatus.BAD_REQUEST, error.message, error.detail, error.validations)
            case RequestValidationError():
                return _answer(HTTPStatus.BAD_REQUEST, INVALID_VALUES, validations=_problems(error))
            case NotAuthenticatedError():
                return _answer(HTTPStatus.UNAUTHORIZED, SIGNED_OUT, NO_CREDENTIAL)
            case InvalidCredentialError():
                return _answer(HTTPStatus.UNAUTHORIZED, SIGNED_OUT, INVALID_CREDENTIAL)
            case ForbiddenError():
                return _answer(HTTPStatus.FORBIDDEN, FORBIDDEN)
            case ServiceError():  # Powertools' own answers (an unknown route is a 404): not a backend failure
                message = ROUTE_NOT_FOUND if error.status_code == HTTPStatus.NOT_FOUND else str(error.msg)
                return _answer(error.status_code, message)
            case _ if isinstance(error, BACKEND_ERRORS):
                logger.exception('Insights backend failed')
                return _answer(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL, BACKEND_FAILED)
            case _:
                logger.exception('Unexpected error')
                return _answer(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL, UNEXPECTED)


def _problems(error: RequestValidationError) -> list[tuple[str, str]]:
    """Powertools' validation errors (a route declaring its parameters) as Coder's validations."""
    return [(str(entry.get('loc', ('',))[-1]), str(entry.get('msg', ''))) for entry in error.errors()]
