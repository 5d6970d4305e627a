"""An HTTP API (API Gateway v2, `$default` stage) in front of the template's functions.

Requests become payload-format-2.0 events exactly as API Gateway builds them, and the handlers' answers
become HTTP responses the way API Gateway reads them (including its inference for non-proxy results).
"""

import base64
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.runtime import FunctionRegistry, LocalFunction
from local.template import ACCOUNT_ID, Route

_LOG = logging.getLogger('local.gateway')
HOST = '127.0.0.1'
DEFAULT_PORT = 3000
API_ID = 'local'
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit, before any Lambda runs
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
    body = json.dumps({'message': message}).encode()
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
        self, routes: Iterable[tuple[Route, LocalFunction]], port: int | None = None, cors: Cors | None = None
    ) -> None:
        self.router = Router(routes)
        self.cors = cors
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
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return _json_message(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'Request Entity Too Large')
        matched = self.router.match(request.method, request.raw_path)
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


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        server_version = 'local-api-gateway'

        def _serve(self) -> None:
            raw_path, _, raw_query = self.path.partition('?')
            length = int(self.headers.get('Content-Length') or 0)
            request = IncomingRequest(
                method=self.command,
                raw_path=raw_path,
                raw_query=raw_query,
                header_pairs=list(self.headers.items()),
                body=self.rfile.read(length) if length else b'',
                source_ip=self.client_address[0],
                protocol=self.request_version,
                port=self.server.server_address[1],
            )
            self._write(gateway.handle(request))

        def _write(self, response: OutgoingResponse) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                if name.lower() not in ('content-length', 'connection', 'date', 'server'):
                    self.send_header(name, value)
            if 'content-type' not in names and response.body:
                self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(response.body)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
            _LOG.info('%s - %s', self.address_string(), format % args)

    for method in METHODS:
        setattr(Handler, f'do_{method}', Handler._serve)
    return Handler
