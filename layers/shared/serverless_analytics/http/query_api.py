"""The query family's HTTP shape: one resolver for GitLab's proxy paths and Cube's own paths, each answering
errors its own way (spec §4.5 for Cube, §6.3 for GitLab).

- GitLab paths (`/projects/{project_id}/product_analytics/request/...`): the key must belong to the project in
  the path (anything else is GitLab's 404, so other projects' existence does not leak); errors are
  `{"message": ...}`; load responses get GitLab's date-gap filling.
- Cube paths (`/cubejs-api/v1/...`): the project is the credential's; errors are Cube's `{"error": ...}`.
Both answer a query still running with 200 `{"error": "Continue wait"}`. "Backend unavailable" is only ever the
answer to a dependency that failed, never to a request: an invalid query is a 400 whatever it contains.
"""

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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
    AnalyticsError,
    ContinueWait,
    CubeLimitError,
    CubeQueryError,
    ForbiddenError,
    InvalidCredentialError,
    NotAuthenticatedError,
    UnparsableBodyError,
)
from serverless_analytics.models.query import CubeRequest
from serverless_analytics.observability import logger, metrics

CUBE_PREFIX = '/cubejs-api/'


class Family(StrEnum):
    GITLAB = 'gitlab'
    CUBE = 'cube'


class ProjectNotFoundError(AnalyticsError):
    """The path names a project the credential does not belong to."""


def family_of(path: str) -> Family:
    return Family.CUBE if path.startswith(CUBE_PREFIX) else Family.GITLAB


# (family, error type) -> (status, body); the GitLab column is what its proxy renders, the Cube one what Cube does.
_AUTH_ERRORS: dict[tuple[Family, type], tuple[int, dict[str, str]]] = {
    (Family.GITLAB, NotAuthenticatedError): (401, {'message': '401 Unauthorized'}),
    (Family.GITLAB, InvalidCredentialError): (401, {'message': '401 Unauthorized'}),
    (Family.GITLAB, ForbiddenError): (403, {'message': '403 Forbidden'}),
    (Family.GITLAB, ProjectNotFoundError): (404, {'message': '404 Project Not Found'}),
    (Family.CUBE, NotAuthenticatedError): (403, {'error': "Authorization header isn't set"}),
    (Family.CUBE, InvalidCredentialError): (403, {'error': 'Invalid token'}),
    (Family.CUBE, ForbiddenError): (403, {'error': 'API scope is missing: data'}),
}

# A dependency failed: GitLab's proxy answers 502 for an unreachable Cube, Cube itself a 500.
_UNAVAILABLE: dict[Family, tuple[int, dict[str, str]]] = {
    Family.GITLAB: (HTTPStatus.BAD_GATEWAY, {'message': 'Query backend unavailable, retry later'}),
    Family.CUBE: (HTTPStatus.INTERNAL_SERVER_ERROR, {'error': 'Error: Query backend unavailable, retry later'}),
}

# A fault of ours: GitLab's generic 500, and what Cube's server answers for an error it did not expect.
_INTERNAL: dict[Family, tuple[int, dict[str, str]]] = {
    Family.GITLAB: (HTTPStatus.INTERNAL_SERVER_ERROR, {'message': '500 Internal Server Error'}),
    Family.CUBE: (HTTPStatus.INTERNAL_SERVER_ERROR, {'error': 'Error: Internal Server Error'}),
}


def _bad_request(family: Family, message: str) -> Response:
    key = 'message' if family is Family.GITLAB else 'error'
    return json_answer(HTTPStatus.BAD_REQUEST, {key: message})


def _cube_query_error(family: Family, error: CubeQueryError) -> Response:
    # Cube throws a plain Error for a limit over its maximum and answers it 500 with its `Error: ` prefix (spec
    # §1.6); a client's mistake never gets a 5xx here: Cube's message, as a 400.
    message = f'Error: {error.message}' if isinstance(error, CubeLimitError) else error.message
    if family is Family.GITLAB:  # GitLab passes Cube's error string on as a 400
        return json_answer(HTTPStatus.BAD_REQUEST, {'message': message})
    return json_answer(HTTPStatus.BAD_REQUEST, {'type': 'UserError', 'error': message})


class QueryApi(ApiFamily):
    """Every query route needs the `read` scope; on GitLab's paths the key's project must be the path's."""

    name = 'Query'
    error_statuses = {
        400: 'An invalid query: Cube\'s message, as `{"type": "UserError", "error"}` on Cube\'s paths and '
        '`{"message"}` on GitLab\'s',
        401: "No valid credential (GitLab's paths)",
        403: "No valid credential (Cube's paths), or the key lacks the `read` scope",
        404: "GitLab's paths: the key does not belong to the path's project",
        500: "Cube's paths: the query backend failed",
        502: "GitLab's paths: the query backend failed; retry later",
    }
    error_schema = {
        'type': 'object',
        'properties': {'error': {'type': 'string'}, 'type': {'type': 'string'}, 'message': {'type': 'string'}},
    }

    def guard(self, event: dict[str, Any], settings: Settings) -> tuple[Principal | None, dict[str, Any]]:
        principal = authenticate(settings, event.get('headers') or {}, Scope.READ)
        path_project = (event.get('pathParameters') or {}).get('project_id')
        if family_of(event.get('rawPath') or '') is Family.GITLAB and path_project != principal.project_id:
            raise ProjectNotFoundError(path_project)
        return principal, _json_body_event(event)

    def error_response(self, error: Exception, event: dict[str, Any]) -> Response:
        family = family_of(event.get('rawPath') or '')
        match error:
            case ContinueWait():
                metrics.add_metric(name='QueryContinueWait', unit='Count', value=1)
                return json_answer(HTTPStatus.OK, {'error': 'Continue wait'})
            case CubeQueryError():
                return _cube_query_error(family, error)
            case RequestValidationError():
                return _bad_request(family, validation_problems(list(error.errors())))
            case UnparsableBodyError():
                return _bad_request(family, f'Request body is not valid JSON: {error}')
            case ServiceError():  # Powertools' own answers (an unknown route is a 404): not a backend failure
                key = 'message' if family is Family.GITLAB else 'error'
                return json_answer(error.status_code, {key: error.msg})
            case _ if type(error) in {error_type for _, error_type in _AUTH_ERRORS}:
                return json_answer(*_AUTH_ERRORS.get((family, type(error)), _AUTH_ERRORS[(family, ForbiddenError)]))
            case _ if isinstance(error, BACKEND_ERRORS):
                logger.exception('Query backend failed')
                return json_answer(*_UNAVAILABLE[family])
            case _:
                logger.exception('Unexpected error')
                return json_answer(*_INTERNAL[family])


def _json_body_event(event: dict[str, Any]) -> dict[str, Any]:
    """A POST body as JSON text under `application/json`, whatever content type the client sent: Cube's server
    and GitLab's proxy read the body as JSON either way."""
    if event.get('requestContext', {}).get('http', {}).get('method') != 'POST':
        return event
    routed = with_json_text_body(event, raw_body(event))
    return {**routed, 'headers': {**(event.get('headers') or {}), 'content-type': 'application/json'}}


def query_request(query: str | None, query_type: str | None) -> CubeRequest:
    """Cube's GET form `?query=<JSON>&queryType=multi`; `query` stays text, so that Cube's own parsing of it gives
    Cube's errors for a missing or non-JSON value."""
    return CubeRequest(query=query, query_type=query_type)
