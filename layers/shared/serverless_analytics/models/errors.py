"""Domain errors; `serverless_analytics.http.api` maps each to one HTTP answer."""


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
