"""What every API family's HTTP side shares: the caller's principal in the resolver context, the API Gateway
response for an answer given before routing (credential, size and shape checks) and what that answer says, and
reading a JSON body into a request model, each family raising its own error type."""

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NamedTuple, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, content_types
from pydantic import BaseModel, ValidationError

from serverless_analytics.models.api_key import Principal
from serverless_analytics.models.errors import (
    AnalyticsError,
    ForbiddenError,
    InvalidCredentialError,
    NotAuthenticatedError,
    PayloadTooLargeError,
)
from serverless_analytics.observability import logger

PRINCIPAL = 'principal'
RETRY_LATER = 'Service temporarily unavailable, retry later'
Request = TypeVar('Request', bound=BaseModel)


class Refusal(NamedTuple):
    """A request refused before routing; each family writes `message` in its own body shape."""

    status: HTTPStatus
    message: str
    headers: dict[str, str] | None = None


def remember_principal(app: APIGatewayHttpResolver, principal: Principal) -> None:
    app.append_context(**{PRINCIPAL: principal})


def current_principal(app: APIGatewayHttpResolver) -> Principal:
    return app.context[PRINCIPAL]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A payload-format-2.0 response, for answers given before the resolver is involved."""
    return {
        'statusCode': int(status),
        'headers': {'Content-Type': content_types.APPLICATION_JSON, **(headers or {})},
        'body': json.dumps(body, separators=(',', ':')),
        'isBase64Encoded': False,
    }


def resolve_as(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: Any,
    principal_of: Callable[[], Principal],
    refusal: Callable[[AnalyticsError], dict[str, Any]],
) -> dict[str, Any]:
    """The credential first, before the body is read (as FastAPI, GitLab and Cube check it), then the route.

    `refusal` is the family's answer to a credential that is missing, wrong, lacks the scope or could not be
    checked; it runs inside the `except`, so it can log the failure with its traceback."""
    try:
        principal = principal_of()
    except AnalyticsError as error:
        return refusal(error)
    remember_principal(app, principal)
    return app.resolve(event, context)


def refusal_for(error: AnalyticsError) -> Refusal:
    """The status, message and headers for an error raised before routing, in the families that answer them
    alike (ingestion and export); anything unexpected is logged and answered as a retryable 503.

    Call it inside the `except` that caught `error`, so the log carries the traceback."""
    match error:
        case NotAuthenticatedError() | InvalidCredentialError():
            return Refusal(HTTPStatus.UNAUTHORIZED, str(error), {'WWW-Authenticate': 'Bearer'})
        case ForbiddenError():
            return Refusal(HTTPStatus.FORBIDDEN, str(error))
        case PayloadTooLargeError():
            return Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(error))
        case _:
            # The error and its traceback only, never the request: its headers hold the credential.
            logger.exception('Credential check failed')
            return Refusal(HTTPStatus.SERVICE_UNAVAILABLE, RETRY_LATER)


def json_object_body(app: APIGatewayHttpResolver, error: Callable[[str], Exception]) -> dict[str, Any]:
    """The request body as a JSON object (an absent body is `{}`); raises `error(message)` for anything else."""
    try:
        body = json.loads(app.current_event.decoded_body or '{}')
    except ValueError as problem:
        raise error(f'Request body is not valid JSON: {problem}') from None
    if not isinstance(body, dict):
        raise error('Request body must be a JSON object')
    return body


def validated(
    model: type[Request], values: dict[str, Any], error: Callable[[str], Exception], context: Any = None
) -> Request:
    """The request model, or `error(message)` naming every problem as `field.path: what is wrong`; `context` is
    what the model's validators need from the caller (pydantic's validation context)."""
    try:
        return model.model_validate(values, context=context)
    except ValidationError as problems:
        raise error('; '.join(_problem(entry) for entry in problems.errors())) from None


def _problem(entry: Any) -> str:
    where = '.'.join(str(part) for part in entry['loc'])
    message = 'is required' if entry['type'] == 'missing' else entry['msg'].removeprefix('Value error, ')
    return f'{where}: {message}'
