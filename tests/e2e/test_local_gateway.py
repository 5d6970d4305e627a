"""The local gateway on the wire: every request, however malformed, gets API Gateway's answer, never a hang or a
dropped connection. Requests are written by hand on raw sockets (http.client cannot send most of them); every
socket has a timeout, so a gateway that failed to answer fails the test instead of hanging the suite."""

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.gateway import HOST, MAX_PAYLOAD_BYTES, Gateway
from local.runtime import LocalFunction
from local.template import FunctionSpec, Route

pytestmark = pytest.mark.e2e

GATEWAY_READ_TIMEOUT_SECONDS = 0.5  # the gateway's own, short so that a stalled client is answered quickly
CLIENT_TIMEOUT_SECONDS = 10.0  # a bound only: every answer below comes long before it

BAD_REQUEST = (400, b'{"message":"Bad Request"}')
TOO_LARGE = (413, b'{"message":"Request Entity Too Large"}')
HEAD_TOO_LARGE = (431, b'{"message":"Request Header Fields Too Large"}')
NOT_FOUND = (404, b'{"message":"Not Found"}')


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The stub route's function: answers with what API Gateway handed it (a long body by its length only)."""
    body = event.get('body') or ''
    seen = {name: event.get(name) for name in ('isBase64Encoded', 'pathParameters', 'queryStringParameters')}
    seen |= {'body': body if len(body) <= 1024 else None, 'bodyLength': len(body)}
    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'}, 'body': json.dumps(seen)}


@pytest.fixture(scope='module')
def gateway() -> Iterator[Gateway]:
    function = LocalFunction(FunctionSpec('Echo', __name__, 'echo', 3, 128, {}, ()))
    routes = [
        (Route('POST', '/echo'), function),
        (Route('GET', '/echo'), function),
        (Route('GET', '/echo/{id}'), function),
    ]
    running = Gateway(routes, port=0, read_timeout_seconds=GATEWAY_READ_TIMEOUT_SECONDS)
    running.start()
    yield running
    running.stop()


def _connect(gateway: Gateway) -> socket.socket:
    return socket.create_connection((HOST, gateway.server.server_port), timeout=CLIENT_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Answers:
    """The answers on one connection, in turn (every answer of the gateway has a Content-Length)."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile('rb')

    def next(self) -> Answer:
        status_line = self.file.readline()
        if not status_line:
            raise ConnectionError('The gateway closed the connection without an answer')
        headers = {}
        while (line := self.file.readline()) not in (b'\r\n', b''):
            name, _, value = line.decode('latin-1').partition(':')
            headers[name.strip().lower()] = value.strip()
        return Answer(int(status_line.split()[1]), headers, self.file.read(int(headers.get('content-length', 0))))


def _exchange(gateway: Gateway, raw: bytes, *, then_close_sending: bool = True) -> Answer:
    """Send `raw`, optionally say nothing more will come (the gateway sees EOF), and read the one answer."""
    with _connect(gateway) as sock:
        sock.sendall(raw)
        if then_close_sending:
            sock.shutdown(socket.SHUT_WR)
        return Answers(sock).next()


def _post(headers: str, body: bytes = b'', target: str = '/echo') -> bytes:
    return f'POST {target} HTTP/1.1\r\nHost: local\r\n{headers}\r\n'.encode() + body


def _answer(response: Answer) -> tuple[int, bytes]:
    return response.status, response.body


def _echoed(response: Answer) -> dict[str, Any]:
    assert response.status == 200, response.body
    return json.loads(response.body)


# ---- bodies -----------------------------------------------------------------------------------------


def test_a_chunked_body_reaches_the_function_assembled(gateway: Gateway) -> None:
    chunks = b'3\r\n{"a\r\n5;ext=1\r\n": 1}\r\n0\r\nX-Trailer: t\r\n\r\n'
    raw = _post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', chunks)

    assert _echoed(_exchange(gateway, raw))['body'] == '{"a": 1}'


def test_a_chunked_body_up_to_the_payload_limit_is_read(gateway: Gateway) -> None:
    half = MAX_PAYLOAD_BYTES // 2
    chunk = f'{half:x}\r\n'.encode() + b'a' * half + b'\r\n'
    raw = _post('Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n', chunk * 2 + b'0\r\n\r\n')

    assert _echoed(_exchange(gateway, raw))['bodyLength'] == MAX_PAYLOAD_BYTES


def test_a_client_expecting_100_continue_is_told_to_go_on(gateway: Gateway) -> None:
    with _connect(gateway) as sock:
        answers = Answers(sock)
        sock.sendall(_post('Content-Type: text/plain\r\nContent-Length: 2\r\nExpect: 100-continue\r\n'))
        interim = answers.next()
        sock.sendall(b'hi')
        final = answers.next()

    assert (interim.status, interim.body) == (100, b'')
    assert _echoed(final)['body'] == 'hi'


def test_requests_follow_one_another_on_a_kept_alive_connection(gateway: Gateway) -> None:
    with _connect(gateway) as sock:
        sock.sendall(_post('Content-Type: text/plain\r\nContent-Length: 3\r\n', b'one') * 2)
        answers = Answers(sock)
        bodies = [_echoed(answers.next())['body'] for _ in range(2)]

    assert bodies == ['one', 'one']


@pytest.mark.parametrize(
    ('headers', 'body'),
    [
        pytest.param('Content-Length: abc\r\n', b'', id='content-length-not-a-number'),
        pytest.param('Content-Length: -1\r\n', b'', id='content-length-negative'),
        pytest.param('Content-Length: +2\r\n', b'hi', id='content-length-with-a-sign'),
        pytest.param('Content-Length: 0x2\r\n', b'hi', id='content-length-in-hex'),
        pytest.param('Content-Length: 2\r\nContent-Length: 3\r\n', b'hi', id='two-different-content-lengths'),
        pytest.param('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', b'hi', id='content-length-and-chunked'),
        pytest.param('Transfer-Encoding: gzip, chunked\r\n', b'0\r\n\r\n', id='transfer-encoding-not-chunked'),
        pytest.param('Transfer-Encoding: chunked\r\n', b'zz\r\nhi\r\n0\r\n\r\n', id='chunk-size-not-hex'),
        pytest.param('Transfer-Encoding: chunked\r\n', b'2\r\nhiX\r\n0\r\n\r\n', id='chunk-longer-than-its-size'),
        pytest.param('Transfer-Encoding: chunked\r\n', b'2\r\nhi\r\n', id='chunked-body-without-last-chunk'),
        pytest.param('Content-Length: 10\r\n', b'short', id='content-length-above-what-is-sent'),
    ],
)
def test_a_body_framed_wrongly_is_a_bad_request(gateway: Gateway, headers: str, body: bytes) -> None:
    response = _exchange(gateway, _post(headers, body))

    assert _answer(response) == BAD_REQUEST
    assert response.headers['content-type'] == 'application/json'


@pytest.mark.parametrize(
    'raw',
    [
        pytest.param(_post('Content-Length: 10\r\n', b'short'), id='body-short-of-its-content-length'),
        pytest.param(_post('Transfer-Encoding: chunked\r\n', b'a\r\nshort'), id='chunk-short-of-its-size'),
        pytest.param(b'POST /echo HTTP/1.1\r\nHost: loc', id='head-cut-off'),
    ],
)
def test_a_client_that_stops_sending_is_answered_when_the_read_times_out(gateway: Gateway, raw: bytes) -> None:
    with _connect(gateway) as sock:
        sock.sendall(raw)  # and then nothing, the connection left open
        answers = Answers(sock)
        response = answers.next()
        closed = answers.file.read(1) == b''

    assert _answer(response) == BAD_REQUEST
    assert closed


@pytest.mark.parametrize(
    ('headers', 'body'),
    [
        pytest.param(f'Content-Length: {MAX_PAYLOAD_BYTES + 1}\r\n', b'', id='content-length-over-the-limit'),
        pytest.param(f'Content-Length: {"9" * 40}\r\n', b'', id='content-length-beyond-any-integer'),
        pytest.param('Transfer-Encoding: chunked\r\n', f'{MAX_PAYLOAD_BYTES + 1:x}\r\n'.encode(), id='chunk-too-large'),
    ],
)
def test_a_body_over_the_payload_limit_is_refused_unread(gateway: Gateway, headers: str, body: bytes) -> None:
    assert _answer(_exchange(gateway, _post(headers, body))) == TOO_LARGE


def test_a_client_still_sending_a_refused_body_gets_the_answer(gateway: Gateway) -> None:
    # The gateway answers after the head, then drains the body: closing on unread input would reset the
    # connection under the answer.
    size = MAX_PAYLOAD_BYTES + 1
    raw = _post(f'Content-Type: text/plain\r\nContent-Length: {size}\r\n', b'a' * size)

    assert _answer(_exchange(gateway, raw, then_close_sending=False)) == TOO_LARGE


# ---- request line and headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    'raw',
    [
        pytest.param(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', id='tls-hello-on-plain-http'),
        pytest.param(b'hello\r\n\r\n', id='request-line-garbage'),
        pytest.param(b'GET /echo\r\n\r\n', id='request-line-without-version'),
        pytest.param(b'GET  /echo HTTP/1.1\r\n\r\n', id='request-line-double-space'),
        pytest.param(b'GET /echo HTTP/2.0\r\n\r\n', id='version-not-http-1'),
        pytest.param(b'G(T /echo HTTP/1.1\r\n\r\n', id='method-not-a-token'),
        pytest.param(b'GET echo HTTP/1.1\r\n\r\n', id='target-without-slash'),
        pytest.param(b'GET /echo HTTP/1.1\r\nno colon here\r\n\r\n', id='header-without-colon'),
        pytest.param(b'GET /echo HTTP/1.1\r\nX-A : 1\r\n\r\n', id='header-space-before-colon'),
        pytest.param(b'GET /echo HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n', id='header-folded'),
        pytest.param(b'GET /echo HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', id='header-value-with-nul'),
        pytest.param(b'GET /echo HTTP/1.1\r\nX-A: 1\r\n', id='head-cut-off-before-its-end'),
        pytest.param(b'GET /echo HTTP/1.1', id='request-line-cut-off'),
    ],
)
def test_a_malformed_request_line_or_header_block_is_a_bad_request(gateway: Gateway, raw: bytes) -> None:
    assert _answer(_exchange(gateway, raw)) == BAD_REQUEST


@pytest.mark.parametrize(
    'target',
    [
        pytest.param(b'/echo/%zz', id='path-escape-not-hex'),
        pytest.param(b'/echo/%4', id='path-escape-cut-off'),
        pytest.param(b'/echo/%ff', id='path-escape-not-utf8'),
        pytest.param(b'/echo/caf\xe9', id='path-raw-bytes-not-utf8'),
        pytest.param(b'/echo?q=100%', id='query-lone-percent'),
        pytest.param(b'/echo?q=%C3%28', id='query-escape-not-utf8'),
        pytest.param(b'/echo?q=\xff', id='query-raw-bytes-not-utf8'),
    ],
)
def test_a_target_that_does_not_decode_is_a_bad_request(gateway: Gateway, target: bytes) -> None:
    assert _answer(_exchange(gateway, b'GET ' + target + b' HTTP/1.1\r\nHost: local\r\n\r\n')) == BAD_REQUEST


def test_a_target_that_decodes_reaches_the_function_decoded(gateway: Gateway) -> None:
    raw = b'GET /echo/caf%C3%A9?q=%E2%9C%93&r=a+b HTTP/1.1\r\nHost: local\r\n\r\n'

    seen = _echoed(_exchange(gateway, raw))

    assert seen['pathParameters'] == {'id': 'café'}
    assert seen['queryStringParameters'] == {'q': '✓', 'r': 'a b'}


@pytest.mark.parametrize(
    'raw',
    [
        pytest.param(b'GET /echo HTTP/1.1\r\nX-Big: ' + b'a' * 10_300 + b'\r\n\r\n', id='one-header-value'),
        pytest.param(b'GET /echo?q=' + b'a' * 10_300 + b' HTTP/1.1\r\n\r\n', id='request-line'),
        pytest.param(b'GET /echo HTTP/1.1\r\n' + b'X-A: 1\r\n' * 10_000 + b'\r\n', id='many-headers'),
        pytest.param(b'GET /echo?q=' + b'a' * 100_000 + b' HTTP/1.1\r\n\r\n', id='request-line-beyond-what-is-read'),
    ],
)
def test_a_head_over_api_gateways_limit_is_refused(gateway: Gateway, raw: bytes) -> None:
    assert _answer(_exchange(gateway, raw, then_close_sending=False)) == HEAD_TOO_LARGE


def test_a_head_just_under_the_limit_is_served(gateway: Gateway) -> None:
    request_line = b'GET /echo HTTP/1.1'  # counted with the header values, not the names
    value = b'a' * (10240 - len(request_line))

    assert _exchange(gateway, request_line + b'\r\nX-Big: ' + value + b'\r\n\r\n').status == 200


# ---- routing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'request_line',
    [
        pytest.param(b'GET /nope HTTP/1.1', id='unknown-path'),
        pytest.param(b'DELETE /echo HTTP/1.1', id='known-method-without-route'),
        pytest.param(b'BREW /echo HTTP/1.1', id='unknown-method'),
        pytest.param(b'get /echo HTTP/1.1', id='method-in-lower-case'),
        pytest.param(b'GET //echo HTTP/1.1', id='doubled-slash'),
    ],
)
def test_a_request_no_route_matches_is_api_gateways_404(gateway: Gateway, request_line: bytes) -> None:
    assert _answer(_exchange(gateway, request_line + b'\r\nHost: local\r\n\r\n')) == NOT_FOUND


def test_an_idle_connection_is_closed_without_an_answer(gateway: Gateway) -> None:
    with _connect(gateway) as sock:
        assert sock.recv(1) == b''
