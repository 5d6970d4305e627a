"""The shape every API family's HTTP module shares.

Each family (`ingestion_api`, `query_api`, `export_api`) subclasses `ApiFamily` and so has the same three parts
under the same names:

- `app()`: the resolver factory. Every route validates its request with pydantic models through Powertools'
  validation, which is also what the OpenAPI document is generated from.
- `guard()`: the request guard, run before routing: the credential and its scope (and whatever else the family
  checks before a body is read). FastAPI, GitLab and Cube all check the credential first, while Powertools
  validates a body before any middleware could, so the guard runs outside the resolver.
- `error_response()`: the one place that turns every error, a catch-all included, into the family's status and
  body. The resolver's exception handler and the answers given before routing both go through it.

`handle()` runs the three in order and counts the answer in the family's metrics.
"""

import base64
import binascii
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from serverless_analytics.config import Settings
from serverless_analytics.engines.base import QueryExecutionError
from serverless_analytics.models.api_key import Principal
from serverless_analytics.models.errors import ServiceUnavailableError, UnparsableBodyError
from serverless_analytics.observability import logger, metrics

PRINCIPAL = 'principal'
# Errors of the backend (a dependency that failed or took too long), as opposed to the request or to our code:
# each family answers them as its "backend unavailable".
BACKEND_ERRORS: tuple[type[BaseException], ...] = (
    ServiceUnavailableError,
    QueryExecutionError,
    TimeoutError,
    ConnectionError,
)


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


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, content_types.APPLICATION_JSON, body=body, headers=headers)


def _proxy_response(response: Response) -> dict[str, Any]:
    headers = {key: str(value) for key, value in response.headers.items() if key.lower() != 'content-type'}
    return json_response(response.status_code, response.body, headers)


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get('body') or ''
    if not event.get('isBase64Encoded'):
        return body.encode(errors='surrogatepass')
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise UnparsableBodyError('The body is not valid base64') from None


def with_json_text_body(event: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The event with its body as JSON text, decoded as `json.loads` decodes bytes (UTF-8, or UTF-16/32 told apart
    by their byte patterns), which is what FastAPI, Starlette and Python clients do; Powertools would decode a
    base64 body as UTF-8 only, and fail on anything else."""
    if not body:
        return event
    try:
        text = body.decode(json.detect_encoding(body))
    except UnicodeDecodeError:
        raise UnparsableBodyError('The body is not text in a JSON encoding') from None
    return {**event, 'body': text, 'isBase64Encoded': False}


def json_loads(text: str) -> Any:
    """`json.loads`, with what it cannot parse for reasons other than syntax (nesting deeper than its recursion
    limit, an integer of more than 4300 digits) raised as the domain's `UnparsableBodyError`; a syntax error stays
    `JSONDecodeError`, which Powertools' validation answers as a validation error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError):
        raise UnparsableBodyError('The body cannot be parsed as JSON') from None


def validation_problems(errors: list[dict[str, Any]]) -> str:
    """Pydantic errors as one message naming each problem as `field.path: what is wrong` (the request body's own
    `body` prefix left out)."""
    return '; '.join(_problem(entry) for entry in errors)


def _problem(entry: dict[str, Any]) -> str:
    if entry.get('type') == 'json_invalid':
        return f'Request body is not valid JSON: {entry.get("ctx", {}).get("error", entry.get("msg"))}'
    if entry.get('type') == 'model_attributes_type' and tuple(entry.get('loc', ())) == ('body',):
        return 'Request body must be a JSON object'
    loc = [str(part) for part in entry.get('loc', ())]
    where = '.'.join(loc[1:] if loc[:1] == ['body'] and len(loc) > 1 else loc)
    message = (
        'is required' if entry.get('type') == 'missing' else str(entry.get('msg', '')).removeprefix('Value error, ')
    )
    return f'{where}: {message}' if where else message


class ApiFamily(ABC):
    """One API family's HTTP shape; `name` prefixes its metrics (`<name>Requests`, `<name>Refusals`, ...)."""

    name: str
    # The family's error answers, for the OpenAPI document: status -> what it means, and the body's JSON schema.
    error_statuses: dict[int, str] = {}
    error_schema: dict[str, Any] = {'type': 'object'}

    def openapi_errors(self) -> dict[str, Any]:
        content = {content_types.APPLICATION_JSON: {'schema': self.error_schema}}
        return {str(status): {'description': text, 'content': content} for status, text in self.error_statuses.items()}

    def app(self, json_body_deserializer: Callable[[str], Any] | None = None) -> APIGatewayHttpResolver:
        """The resolver of one function's routes, validating requests and answering every error the family's way."""
        app = APIGatewayHttpResolver(
            enable_validation=True, json_body_deserializer=json_body_deserializer or json_loads
        )
        # One handler for every exception: Powertools picks it for anything a route or its validation raises.
        app.exception_handler(Exception)(lambda error: self.error_response(error, app.current_event.raw_event))
        return app

    @abstractmethod
    def guard(self, event: dict[str, Any], settings: Settings) -> tuple[Principal | None, dict[str, Any]]:
        """Check what must be checked before routing; the caller's principal (None on an open route) and the event
        to route (a guard may normalise it, e.g. its body's encoding). Raises the family's domain errors."""

    @abstractmethod
    def error_response(self, error: Exception, event: dict[str, Any]) -> Response:
        """The family's answer to `error`; called inside the `except` that caught it, so it can log the traceback."""

    def handle(self, app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, settings: Settings) -> dict:
        """Guard, then route; every error, before or during routing, is answered by `error_response`."""
        logger.remove_keys(['project_id'])
        try:
            principal, routed = self.guard(event, settings)
            if principal is not None:
                logger.append_keys(project_id=principal.project_id)
                app.append_context(**{PRINCIPAL: principal})
            answer = app.resolve(routed, context)
        except Exception as error:  # noqa: BLE001 - the family's catch-all answers it
            answer = _proxy_response(self.error_response(error, event))
        self._count(answer)
        return answer

    def _count(self, answer: dict[str, Any]) -> None:
        status = int(answer.get('statusCode', HTTPStatus.INTERNAL_SERVER_ERROR))
        outcome = 'Requests' if status < 400 else 'Refusals' if status < 500 else 'BackendFailures'
        metrics.add_metric(name=f'{self.name}{outcome}', unit='Count', value=1)
