"""Domain errors: what went wrong, never how to answer it (each API family's HTTP module maps them to its status
and body)."""

from typing import Any


class AnalyticsError(Exception):
    """Base of every error this package raises on purpose."""


class NotAuthenticatedError(AnalyticsError):
    """No credential was sent."""


class InvalidCredentialError(AnalyticsError):
    """A credential was sent but is unknown, revoked or expired."""


class ForbiddenError(AnalyticsError):
    """The credential is valid but lacks the scope the route needs."""


class PayloadTooLargeError(AnalyticsError):
    """The request body is over the configured cap."""


class ServiceUnavailableError(AnalyticsError):
    """A dependency (stream, table, bucket) failed; the caller may retry."""


class UnparsableBodyError(AnalyticsError):
    """The body cannot be read as JSON at all: bytes that are not text in a JSON encoding, nesting deeper than the
    parser goes, or a number too long to convert (a syntax error is a validation error instead)."""


class BodyNotAnObjectError(AnalyticsError):
    """The body is JSON or text, but not the object the route takes; `body` is what was sent."""

    def __init__(self, body: Any):
        super().__init__('Request body must be a JSON object')
        self.body = body


class CubeQueryError(AnalyticsError):
    """An invalid Cube query; `message` is Cube's own wording (what a Cube client shows)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CubeLimitError(CubeQueryError):
    """`limit` over Cube's maximum, which Cube refuses apart from other invalid queries (a plain Error there)."""

    def __init__(self) -> None:
        super().__init__('The query limit has been exceeded.')


class CubeModelError(AnalyticsError):
    """The data model files are invalid; raised when loading them, never because of a query."""


class ContinueWait(AnalyticsError):  # noqa: N818 - named after Cube's answer, not an error condition
    """The query is still running: Cube answers "Continue wait"; `execution_ids` are kept for the retry."""

    def __init__(self, cache_key: str, execution_ids: list[str]):
        super().__init__('Continue wait')
        self.cache_key = cache_key
        self.execution_ids = execution_ids


class UnknownExecutionError(KeyError):
    """An engine does not know this execution id (an in-memory engine was restarted, or the id is foreign)."""


class InsightsParamsError(AnalyticsError):
    """Coder's insights routes refuse the request's parameters: Coder's `message`, an optional `detail` and the
    `validations` as (field, detail) pairs, in the order Coder reports them (answered as 400)."""

    def __init__(self, message: str, detail: str = '', validations: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.validations = list(validations or [])
