"""The front of the local AWS endpoint: one request at a time, and fault injection for Kinesis.

moto's backends are not thread-safe (two concurrent PutRecords on one shard can get the same sequence
number, and concurrent DynamoDB `ADD`s can lose an increment), while AWS applies every request atomically,
so requests reach moto one at a time. The backends are per process, shared by every moto server in it (two
stacks in one test process, say), so there is one lock per process, not per server.

moto has no throttling of its own. This WSGI middleware sits between the HTTP server and moto and answers
`PutRecords` the way Kinesis does when a shard is over its limit: either the whole call fails with
`ProvisionedThroughputExceededException`, or individual entries come back with that `ErrorCode` (and are
not stored), while the rest of the call goes through to moto. The handlers' code path is untouched.
"""

import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

PUT_RECORDS_TARGET = 'Kinesis_20131202.PutRecords'
THROTTLED = 'ProvisionedThroughputExceededException'
THROTTLED_MESSAGE = 'Rate exceeded for shard shardId-000000000000 in stream EventsStream under account 123456789012.'

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class InjectedCounts:
    calls_rejected: int = 0
    records_rejected: int = 0


class KinesisFaults:
    """What to inject next; thread-safe, consumed as requests arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls_to_reject = 0
        self._records_to_reject = 0
        self.injected = InjectedCounts()

    def throttle_calls(self, count: int) -> None:
        """Fail the next `count` PutRecords calls as a whole."""
        with self._lock:
            self._calls_to_reject += count

    def throttle_records(self, count: int) -> None:
        """Fail the next `count` PutRecords entries individually (partial failure)."""
        with self._lock:
            self._records_to_reject += count

    @property
    def records_to_reject(self) -> int:
        with self._lock:
            return self._records_to_reject

    def clear(self) -> None:
        with self._lock:
            self._calls_to_reject = self._records_to_reject = 0

    def _take_call(self) -> bool:
        with self._lock:
            if not self._calls_to_reject:
                return False
            self._calls_to_reject -= 1
            self.injected.calls_rejected += 1
            return True

    def _take_records(self, available: int) -> int:
        with self._lock:
            taken = min(available, self._records_to_reject)
            self._records_to_reject -= taken
            self.injected.records_rejected += taken
            return taken


def _json_response(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [('Content-Type', 'application/x-amz-json-1.1'), ('Content-Length', str(len(payload)))])
    return [payload]


class AwsFrontend:
    def __init__(self, app: WsgiApp, kinesis: KinesisFaults) -> None:
        self.app = _Serialised(app)
        self.kinesis = kinesis

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get('HTTP_X_AMZ_TARGET') != PUT_RECORDS_TARGET:
            return self.app(environ, start_response)
        if self.kinesis._take_call():
            return _json_response(
                start_response, '400 Bad Request', {'__type': THROTTLED, 'message': THROTTLED_MESSAGE}
            )
        if not self.kinesis.records_to_reject:  # the common case: pass the call through unread
            return self.app(environ, start_response)
        body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        request = json.loads(body or b'{}')
        rejected = self.kinesis._take_records(len(request.get('Records', [])))
        if not rejected:
            return self.app(_with_body(environ, body), start_response)
        return self._partial(environ, start_response, request, rejected)

    def _partial(
        self, environ: dict[str, Any], start_response: Callable[..., Any], request: dict[str, Any], rejected: int
    ) -> list[bytes]:
        """Reject the first `rejected` entries, forward the rest, and merge the answers in request order."""
        records = request['Records']
        accepted: list[dict[str, Any]] = []
        if rejected < len(records):
            forwarded = json.dumps({**request, 'Records': records[rejected:]}).encode()
            status, answer = _call(self.app, _with_body(environ, forwarded))
            if not status.startswith('200'):
                return _json_response(start_response, status, answer)
            accepted = answer['Records']
        throttled = [{'ErrorCode': THROTTLED, 'ErrorMessage': THROTTLED_MESSAGE}] * rejected
        failed = rejected + sum(1 for entry in accepted if 'ErrorCode' in entry)
        return _json_response(start_response, '200 OK', {'FailedRecordCount': failed, 'Records': throttled + accepted})


_MOTO_LOCK = threading.Lock()


class _Serialised:
    """Runs the wrapped app one request at a time in the process, its response read completely inside the lock."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured[:] = [status, headers, exc_info]

        with _MOTO_LOCK:
            result = self.app(environ, capture)
            try:
                body = b''.join(result)
            finally:
                getattr(result, 'close', lambda: None)()
        start_response(*captured)
        return [body]


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {**environ, 'wsgi.input': io.BytesIO(body), 'CONTENT_LENGTH': str(len(body))}


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    captured: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured['status'] = status

    body = b''.join(app(environ, start_response))
    return captured['status'], json.loads(body or b'{}')
