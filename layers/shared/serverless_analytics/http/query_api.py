"""The query API's HTTP side: one resolver for GitLab's proxy paths and Cube's own paths, each family
answering errors its own way (spec §4.5 for Cube, §6.3 for GitLab).

- GitLab paths (`/projects/{project_id}/product_analytics/request/...`): the key must belong to the project in
  the path (anything else is GitLab's 404, so other projects' existence does not leak); errors are
  `{"message": ...}`; load responses get GitLab's date-gap filling.
- Cube paths (`/cubejs-api/v1/...`): the project is the credential's; errors are Cube's `{"error": ...}`.
Both answer a query still running with 200 `{"error": "Continue wait"}`.
"""

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from serverless_analytics.config import Settings
from serverless_analytics.cube import ContinueWait, CubeQueryError
from serverless_analytics.cube.engines import AthenaQueryError
from serverless_analytics.http.common import json_object_body, json_response, resolve_as, validated
from serverless_analytics.logic.api_keys import authenticate
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.errors import (
    AnalyticsError,
    ForbiddenError,
    InvalidCredentialError,
    NotAuthenticatedError,
)
from serverless_analytics.models.query import CubeRequest
from serverless_analytics.observability import logger

CUBE_PREFIX = '/cubejs-api/'


class Family(StrEnum):
    GITLAB = 'gitlab'
    CUBE = 'cube'


class BadRequestError(AnalyticsError):
    """The body is not what the route takes (not JSON, or not an object)."""


class ProjectNotFoundError(AnalyticsError):
    """The path names a project the credential does not belong to."""


def family_of(path: str) -> Family:
    return Family.CUBE if path.startswith(CUBE_PREFIX) else Family.GITLAB


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, content_types.APPLICATION_JSON, body=body)


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


def _error(app: APIGatewayHttpResolver, error: Exception) -> Response:
    family = family_of(app.current_event.path)
    match error:
        case ContinueWait():
            return _json(HTTPStatus.OK, ContinueWait.body())
        case CubeQueryError() if family is Family.GITLAB:  # GitLab passes Cube's error string on as a 400
            return _json(HTTPStatus.BAD_REQUEST, {'message': error.body()['error']})
        case CubeQueryError():
            return _json(error.status, error.body())
        case ServiceError():  # Powertools' own answers (an unknown route is a 404): not a backend failure
            key = 'message' if family is Family.GITLAB else 'error'
            return _json(error.status_code, {key: error.msg})
        case AthenaQueryError() | BadRequestError():
            key = 'message' if family is Family.GITLAB else 'error'
            return _json(HTTPStatus.BAD_REQUEST, {key: str(error)})
        case _:
            logger.exception('Query backend failed')
            return _json(*_UNAVAILABLE[family])


def query_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    # One handler for every exception (`_error` tells them apart): anything unexpected gets the family's
    # "backend unavailable" answer, not a bare 500.
    app.exception_handler(Exception)(lambda error: _error(app, error))
    return app


def _principal(event: dict[str, Any], settings: Settings, family: Family) -> Principal:
    principal = authenticate(settings, event.get('headers') or {}, Scope.READ)
    path_project = (event.get('pathParameters') or {}).get('project_id')
    if family is Family.GITLAB and path_project != principal.project_id:
        raise ProjectNotFoundError(path_project)
    return principal


def resolve_query_route(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, settings: Settings
) -> dict[str, Any]:
    """Credential and project checks first (before the body is read), then the route."""
    family = family_of(event.get('rawPath') or '')
    return resolve_as(
        app, event, context, lambda: _principal(event, settings, family), lambda error: _refusal(family, error)
    )


def _refusal(family: Family, error: AnalyticsError) -> dict[str, Any]:
    answer = _AUTH_ERRORS.get((family, type(error)))
    if answer is None:
        logger.exception('Credential check failed')
        answer = _UNAVAILABLE[family]
    return json_response(*answer)


def cube_request(app: APIGatewayHttpResolver) -> CubeRequest:
    """The request: a JSON body, or Cube's GET form `?query=<JSON>&queryType=multi`."""
    event = app.current_event
    if event.http_method == 'GET':
        params = event.query_string_parameters or {}
        # `query` stays text: Cube's own parsing of it gives Cube's errors for a missing or non-JSON value.
        values = {'query': params.get('query'), 'queryType': params.get('queryType')}
        return validated(CubeRequest, values, BadRequestError)
    return validated(CubeRequest, json_object_body(app, BadRequestError), BadRequestError)
