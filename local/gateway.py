"""An HTTP API (API Gateway v2, `$default` stage) in front of the template's functions.

Requests become payload-format-2.0 events exactly as API Gateway builds them, and the handlers' answers
become HTTP responses the way API Gateway reads them (including its inference for non-proxy results).
A request API Gateway would refuse before any Lambda runs (malformed, over its size limits, sent short of its
Content-Length) gets API Gateway's `{"message": ...}` answer from the gateway itself.
"""

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_to_bytes

from local.runtime import FunctionRegistry, LocalFunction
from local.template import ACCOUNT_ID, Route

_LOG = logging.getLogger('local.gateway')
HOST = '127.0.0.1'
DEFAULT_PORT = 3000
API_ID = 'local'
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit, before any Lambda runs
MAX_HEAD_BYTES = 10240  # API Gateway's limit on the request line and the header values together
MAX_HEAD_READ_BYTES = 64 * 1024  # the most read of a request's head, header names and line ends included
MAX_CHUNK_LINE_BYTES = 4096
READ_TIMEOUT_SECONDS = 30.0  # per read: a client that stops sending is answered and its thread freed
LINGER_SECONDS = 2.0
HOP_HEADERS = ('content-length', 'connection', 'date', 'server', 'transfer-encoding')
METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')
TEXT_TYPES = re.compile(
    r'^(text/.*|application/(json|xml|javascript|x-www-form-urlencoded)|.*\+(json|xml))$', re.IGNORECASE
)


def configured_port() -> int:
    return int(os.environ.get('LOCAL_API_PORT', DEFAULT_PORT))


@dataclass(frozen=True)
class BoundRoute:
    route: Route
    function: LocalFunction
    pattern: re.Pattern[str]

    @property
    def route_key(self) -> str:
        return f'{self.route.method} {self.route.path}'


def _path_pattern(path: str) -> re.Pattern[str]:
    """`/items/{id}` and greedy `/files/{proxy+}` as a regex with named groups."""
    parts = re.split(r'(\{[^}]+\})', path)
    regex = ''
    for part in parts:
        if part.startswith('{') and part.endswith('+}'):
            regex += f'(?P<{part[1:-2]}>.+)'
        elif part.startswith('{'):
            regex += f'(?P<{part[1:-1]}>[^/]+)'
        else:
            regex += re.escape(part)
    return re.compile(f'^{regex}$')


class Router:
    """Routes as API Gateway picks them: exact method before ANY, static paths before parameterised ones."""

    def __init__(self, routes: Iterable[tuple[Route, LocalFunction]]) -> None:
        bound = [BoundRoute(route, function, _path_pattern(route.path)) for route, function in routes]
        self.routes = sorted(bound, key=lambda b: (b.route.method == 'ANY', '{' in b.route.path, -len(b.route.path)))

    def match(self, method: str, path: str) -> tuple[BoundRoute, dict[str, str]] | None:
        for bound in self.routes:
            if bound.route.method not in (method, 'ANY'):
                continue
            found = bound.pattern.match(path)
            if found:
                return bound, {name: unquote(value) for name, value in found.groupdict().items()}
        return None


def _joined_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        name = name.lower()
        headers[name] = f'{headers[name]},{value}' if name in headers else value
    return headers


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    if not raw_query:
        return None
    values: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        values[name] = f'{values[name]},{value}' if name in values else value
    return values


def _trace_id() -> str:
    return f'Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}'


@dataclass
class IncomingRequest:
    method: str
    raw_path: str
    raw_query: str
    header_pairs: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str
    port: int


def build_event(request: IncomingRequest, bound: BoundRoute, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The payload-format-2.0 event API Gateway would send for this request."""
    headers = _joined_headers(request.header_pairs)
    cookie_header = headers.pop('cookie', None)
    headers.setdefault('x-forwarded-for', request.source_ip)
    headers.setdefault('x-forwarded-port', str(request.port))
    headers.setdefault('x-forwarded-proto', 'http')
    headers.setdefault('x-amzn-trace-id', _trace_id())
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        'version': '2.0',
        'routeKey': bound.route_key,
        'rawPath': request.raw_path,
        'rawQueryString': request.raw_query,
        'headers': headers,
        'requestContext': {
            'accountId': ACCOUNT_ID,
            'apiId': API_ID,
            'domainName': headers.get('host', f'{HOST}:{request.port}'),
            'domainPrefix': headers.get('host', HOST).split('.', 1)[0].split(':', 1)[0],
            'http': {
                'method': request.method,
                'path': request.raw_path,
                'protocol': request.protocol,
                'sourceIp': request.source_ip,
                'userAgent': headers.get('user-agent', ''),
            },
            'requestId': base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            'routeKey': bound.route_key,
            'stage': '$default',
            'time': now.strftime('%d/%b/%Y:%H:%M:%S +0000'),
            'timeEpoch': int(now.timestamp() * 1000),
        },
        'isBase64Encoded': False,
    }
    if cookie_header:
        event['cookies'] = [cookie.strip() for cookie in cookie_header.split(';') if cookie.strip()]
    query = _query_parameters(request.raw_query)
    if query is not None:
        event['queryStringParameters'] = query
    if path_parameters:
        event['pathParameters'] = path_parameters
    if request.body:
        _set_body(event, request.body, headers.get('content-type', ''))
    return event


def _set_body(event: dict[str, Any], body: bytes, content_type: str) -> None:
    media_type = content_type.split(';', 1)[0].strip()
    if TEXT_TYPES.match(media_type):
        try:
            event['body'] = body.decode('utf-8')
            return
        except UnicodeDecodeError:
            pass
    event['body'] = base64.b64encode(body).decode()
    event['isBase64Encoded'] = True


@dataclass
class OutgoingResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json_message(status: HTTPStatus, message: str) -> OutgoingResponse:
    body = json.dumps({'message': message}, separators=(',', ':')).encode()
    return OutgoingResponse(int(status), [('Content-Type', 'application/json')], body)


def to_response(result: Any) -> OutgoingResponse:
    """Read a handler's result as API Gateway does for payload format 2.0."""
    if not isinstance(result, dict) or 'statusCode' not in result:
        # No statusCode: API Gateway assumes 200 and a JSON body made of the whole result.
        body = result if isinstance(result, str) else json.dumps(result)
        return OutgoingResponse(200, [('Content-Type', 'application/json')], body.encode())
    headers = [(name, str(value)) for name, value in (result.get('headers') or {}).items()]
    for name, values in (result.get('multiValueHeaders') or {}).items():
        headers += [(name, str(value)) for value in values]
    headers += [('Set-Cookie', cookie) for cookie in result.get('cookies') or []]
    body = result.get('body') or ''
    raw = base64.b64decode(body) if result.get('isBase64Encoded') else str(body).encode()
    return OutgoingResponse(int(result['statusCode']), headers, raw)


@dataclass(frozen=True)
class Cors:
    """The HttpApi's `CorsConfiguration`, applied as API Gateway applies it: it answers preflights itself and
    adds the allow-origin header to every response of a request that has an Origin."""

    allow_origins: tuple[str, ...]
    allow_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    max_age: int | None

    @classmethod
    def from_template(cls, template: Any) -> 'Cors | None':
        for properties in template.resources_of_type('AWS::Serverless::HttpApi').values():
            config = properties.get('CorsConfiguration')
            if config:
                return cls(
                    tuple(config.get('AllowOrigins') or ()),
                    tuple(h.lower() for h in config.get('AllowHeaders') or ()),
                    tuple(config.get('AllowMethods') or ()),
                    config.get('MaxAge'),
                )
        return None

    def allowed_origin(self, origin: str) -> str | None:
        if '*' in self.allow_origins:
            return '*'
        return origin if origin in self.allow_origins else None

    def preflight(self, origin: str) -> OutgoingResponse:
        headers = [
            ('Access-Control-Allow-Origin', self.allowed_origin(origin) or 'null'),
            ('Access-Control-Allow-Methods', ','.join(self.allow_methods)),
            ('Access-Control-Allow-Headers', ','.join(self.allow_headers)),
        ]
        if self.max_age is not None:
            headers.append(('Access-Control-Max-Age', str(self.max_age)))
        return OutgoingResponse(int(HTTPStatus.NO_CONTENT), headers, b'')


class Gateway:
    def __init__(
        self,
        routes: Iterable[tuple[Route, LocalFunction]],
        port: int | None = None,
        cors: Cors | None = None,
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self.router = Router(routes)
        self.cors = cors
        self.read_timeout_seconds = read_timeout_seconds
        self.server = ThreadingHTTPServer((HOST, configured_port() if port is None else port), _handler_class(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @classmethod
    def for_template(cls, template: Any, functions: FunctionRegistry, port: int | None = None) -> 'Gateway':
        routes = [(route, functions[spec.logical_id]) for route, spec in template.http_routes]
        return cls(routes, port, Cors.from_template(template))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f'http://{host}:{port}'

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name='local-gateway', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join()

    def handle(self, request: IncomingRequest) -> OutgoingResponse:
        origin = _joined_headers(request.header_pairs).get('origin')
        if self.cors and origin and request.method == 'OPTIONS':
            return self.cors.preflight(origin)
        response = self._route(request)
        if self.cors and origin and (allowed := self.cors.allowed_origin(origin)):
            response.headers.append(('Access-Control-Allow-Origin', allowed))
        return response

    def _route(self, request: IncomingRequest) -> OutgoingResponse:
        # ANY does not stand for methods API Gateway does not know: no route has them.
        matched = self.router.match(request.method, request.raw_path) if request.method in METHODS else None
        if matched is None:
            return _json_message(HTTPStatus.NOT_FOUND, 'Not Found')
        bound, path_parameters = matched
        event = build_event(request, bound, path_parameters)
        try:
            result = bound.function.invoke(event)
        except Exception:
            _LOG.exception('%s failed on %s', bound.function.spec.logical_id, bound.route_key)
            return _json_message(HTTPStatus.INTERNAL_SERVER_ERROR, 'Internal Server Error')
        try:
            response = to_response(result)
        except (TypeError, ValueError):
            _LOG.exception('%s returned a malformed response', bound.function.spec.logical_id)
            return _json_message(HTTPStatus.INTERNAL_SERVER_ERROR, 'Internal Server Error')
        response.headers.append(('Apigw-Requestid', event['requestContext']['requestId']))
        return response


# ---- HTTP/1.1 on the wire ---------------------------------------------------------------------------
# Read by hand rather than by http.server, which answers malformed requests in HTML or not at all, reads no
# chunked body, and waits forever for a body shorter than its Content-Length.


class Rejected(Exception):
    """A request API Gateway answers itself, before any route is chosen."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.response = _json_message(status, message)


def _bad_request() -> Rejected:
    return Rejected(HTTPStatus.BAD_REQUEST, 'Bad Request')


def _too_large() -> Rejected:
    return Rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'Request Entity Too Large')


def _head_too_large() -> Rejected:
    return Rejected(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, 'Request Header Fields Too Large')


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rf'({_TOKEN}) (/[^\x00-\x20\x7f]*) (HTTP/1\.[01])\r?\n')
_HEADER_LINE = re.compile(rf'({_TOKEN}):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*\r?\n')
_CHUNK_SIZE = re.compile(r'([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r?\n')
_BAD_PERCENT = re.compile(r'%(?![0-9A-Fa-f]{2})')
_DECIMAL = re.compile(r'[0-9]+')
_BLANK_LINES = (b'\r\n', b'\n')


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str
    version: str
    header_pairs: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        """Every comma-separated value of a header, from all its lines."""
        lines = [value for header, value in self.header_pairs if header.lower() == name]
        return [value.strip() for line in lines for value in line.split(',') if value.strip()]

    @property
    def keep_alive(self) -> bool:
        tokens = {value.lower() for value in self.values('connection')}
        return 'close' not in tokens and (self.version == 'HTTP/1.1' or 'keep-alive' in tokens)

    @property
    def expects_continue(self) -> bool:
        return self.version == 'HTTP/1.1' and '100-continue' in (v.lower() for v in self.values('expect'))


def _line(rfile: Any, budget: int, too_long: Callable[[], Rejected]) -> bytes:
    line = rfile.readline(budget + 1)
    if len(line) > budget:
        raise too_long()
    if not line.endswith(b'\n'):  # the client closed half-way through the line
        raise _bad_request()
    return line


def _read_head(rfile: Any) -> RequestHead:
    budget = MAX_HEAD_READ_BYTES
    request_line = _line(rfile, budget, _head_too_large)
    budget -= len(request_line)
    header_lines = []
    while (line := _line(rfile, budget, _head_too_large)) not in _BLANK_LINES:
        header_lines.append(line)
        budget -= len(line)
    return _parse_head(request_line, header_lines)


def _parse_head(request_line: bytes, header_lines: list[bytes]) -> RequestHead:
    try:
        matched = _REQUEST_LINE.fullmatch(request_line.decode('utf-8'))
    except UnicodeDecodeError:
        matched = None
    if matched is None:
        raise _bad_request()
    method, target, version = matched.groups()
    header_pairs = [_parse_header(line) for line in header_lines]
    counted = len(request_line.rstrip(b'\r\n')) + sum(len(value) for _, value in header_pairs)
    if counted > MAX_HEAD_BYTES:
        raise _head_too_large()
    path, _, query = target.partition('?')
    if not (_percent_decodes(path) and _percent_decodes(query)):
        raise _bad_request()
    return RequestHead(method, target, version, header_pairs)


def _parse_header(line: bytes) -> tuple[str, str]:
    matched = _HEADER_LINE.fullmatch(line.decode('latin-1'))  # obs-text in values is latin-1, as http.client reads it
    if matched is None:  # no colon, space before it, a folded line, control characters
        raise _bad_request()
    return matched[1], matched[2]


def _percent_decodes(text: str) -> bool:
    """Every `%` starts an escape, and what the escapes spell is UTF-8."""
    if _BAD_PERCENT.search(text):
        return False
    try:
        unquote_to_bytes(text).decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def _body_length(head: RequestHead) -> int | None:
    """The Content-Length, 0 without one, None for a chunked body."""
    encodings, lengths = head.values('transfer-encoding'), head.values('content-length')
    if encodings:
        if lengths or [encoding.lower() for encoding in encodings] != ['chunked']:
            raise _bad_request()  # both framings at once is how requests are smuggled
        return None
    if not lengths:
        return 0
    if len(set(lengths)) > 1 or not _DECIMAL.fullmatch(lengths[0]):
        raise _bad_request()
    digits = lengths[0].lstrip('0') or '0'
    if len(digits) > len(str(MAX_PAYLOAD_BYTES)) or int(digits) > MAX_PAYLOAD_BYTES:
        raise _too_large()
    return int(digits)


def _read_exactly(rfile: Any, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:  # the client closed before sending what it announced
        raise _bad_request()
    return data


def _read_chunked(rfile: Any) -> bytes:
    body = bytearray()
    while size := _chunk_size(_line(rfile, MAX_CHUNK_LINE_BYTES, _bad_request)):
        if len(body) + size > MAX_PAYLOAD_BYTES:
            raise _too_large()
        body += _read_exactly(rfile, size)
        if _line(rfile, 2, _bad_request) not in _BLANK_LINES:
            raise _bad_request()
    budget = MAX_HEAD_READ_BYTES
    while (trailer := _line(rfile, budget, _head_too_large)) not in _BLANK_LINES:
        _parse_header(trailer)  # trailers are checked and dropped: API Gateway passes none to Lambda
        budget -= len(trailer)
    return bytes(body)


def _chunk_size(line: bytes) -> int:
    matched = _CHUNK_SIZE.fullmatch(line.decode('latin-1'))
    if matched is None:
        raise _bad_request()
    return int(matched[1], 16)


def _next_request_arrives(rfile: Any) -> bool:
    """False when the client closes or stays idle between requests: the connection ends without an answer."""
    try:
        return bool(rfile.peek(1))
    except OSError:
        return False


def read_request(rfile: Any, send_continue: Callable[[], None]) -> tuple[RequestHead, bytes] | None:
    """The next request of a connection, None when there is none; `Rejected` for one API Gateway refuses."""
    if not _next_request_arrives(rfile):
        return None
    try:
        head = _read_head(rfile)
        length = _body_length(head)
        if length != 0 and head.expects_continue:
            send_continue()
        body = _read_chunked(rfile) if length is None else _read_exactly(rfile, length)
    except TimeoutError as error:  # sent less than announced, then stopped
        raise _bad_request() from error
    return head, body


def encode_response(response: OutgoingResponse, *, head_only: bool, close: bool) -> bytes:
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ''
    lines = [f'HTTP/1.1 {response.status} {phrase}']
    names = {name.lower() for name, _ in response.headers}
    lines += [f'{name}: {value}' for name, value in response.headers if name.lower() not in HOP_HEADERS]
    if 'content-type' not in names and response.body:
        lines.append('Content-Type: application/json')
    lines += [f'Date: {formatdate(usegmt=True)}', f'Content-Length: {len(response.body)}']
    if close:
        lines.append('Connection: close')
    head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    return head if head_only else head + response.body


def _handler_class(gateway: Gateway) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        timeout = gateway.read_timeout_seconds

        def handle(self) -> None:
            while self._serve_one():
                pass

        def _serve_one(self) -> bool:
            """Answer one request; False once the connection is to end."""
            try:
                received = read_request(self.rfile, self._send_continue)
            except Rejected as rejected:
                self._send(rejected.response, head_only=False, close=True)
                self._discard_unread_input()
                _LOG.info('%s - refused: %s', self.client_address[0], rejected)
                return False
            except OSError:
                return False  # the client went away
            if received is None:
                return False
            head, body = received
            response = gateway.handle(self._incoming(head, body))
            _LOG.info('%s - "%s %s" %s', self.client_address[0], head.method, head.target, response.status)
            sent = self._send(response, head_only=head.method == 'HEAD', close=not head.keep_alive)
            return sent and head.keep_alive

        def _incoming(self, head: RequestHead, body: bytes) -> IncomingRequest:
            raw_path, _, raw_query = head.target.partition('?')
            return IncomingRequest(
                method=head.method,
                raw_path=raw_path,
                raw_query=raw_query,
                header_pairs=head.header_pairs,
                body=body,
                source_ip=self.client_address[0],
                protocol=head.version,
                port=self.server.server_address[1],
            )

        def _send_continue(self) -> None:
            self.wfile.write(b'HTTP/1.1 100 Continue\r\n\r\n')

        def _send(self, response: OutgoingResponse, *, head_only: bool, close: bool) -> bool:
            try:
                self.wfile.write(encode_response(response, head_only=head_only, close=close))
            except OSError:
                return False
            return True

        def _discard_unread_input(self) -> None:
            # A socket closed with unread input resets the connection, and the client can lose the answer it
            # has not read yet (a body still being sent after a 413, say): read and drop it first, bounded.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_SECONDS)
                discarded = 0
                while discarded < MAX_PAYLOAD_BYTES and (chunk := self.connection.recv(64 * 1024)):
                    discarded += len(chunk)

    return Handler
