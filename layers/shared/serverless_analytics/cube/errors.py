"""Errors of the Cube query API, carrying the status and body Cube itself would answer (spec §4.5)."""


class CubeQueryError(Exception):
    """An invalid query: Cube's `UserError`, answered 400 `{"type": "UserError", "error": message}`."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        return {'type': 'UserError', 'error': self.message}


class CubeLimitError(CubeQueryError):
    """`limit` over the maximum: Cube throws a plain Error here, so the answer is a 500 (spec §1.6)."""

    status = 500

    def __init__(self):
        super().__init__('The query limit has been exceeded.')

    def body(self) -> dict:
        return {'error': f'Error: {self.message}'}


class CubeModelError(Exception):
    """The data model files are invalid; raised when loading them, never because of a query."""


class ContinueWait(Exception):  # noqa: N818 - named after Cube's answer, not an error condition
    """The query is still running: answer `{"error": "Continue wait"}` and keep `execution_ids` for the retry."""

    def __init__(self, cache_key: str, execution_ids: list[str]):
        super().__init__('Continue wait')
        self.cache_key = cache_key
        self.execution_ids = execution_ids

    @staticmethod
    def body() -> dict:
        return {'error': 'Continue wait'}


class UnknownExecutionError(KeyError):
    """An engine does not know this execution id (an in-memory engine was restarted, or the id is foreign)."""
