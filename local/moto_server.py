"""moto in server mode on loopback: the AWS endpoint of the local stack."""

import os

import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from local import moto_patches
from local.faults import AwsFrontend, KinesisFaults

HOST = '127.0.0.1'
DEFAULT_PORT = 5000


def configured_port() -> int:
    return int(os.environ.get('LOCAL_AWS_PORT', DEFAULT_PORT))


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code: int | str = '-', size: int | str = '-') -> None:
        pass  # one line per AWS call drowns the handlers' own logs


class LocalMotoServer(ThreadedMotoServer):
    """moto's threaded server with the fault-injection middleware in front of it."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(ip_address=HOST, port=configured_port() if port is None else port, verbose=False)
        self.kinesis_faults = KinesisFaults()

    def _server_entry(self) -> None:
        moto_patches.install()
        app = AwsFrontend(DomainDispatcherApplication(create_backend_app), self.kinesis_faults)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=QuietRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f'http://{host}:{port}'

    def reset(self) -> None:
        """Forget every resource (moto's state is per process, so a new stack starts from nothing)."""
        requests.post(f'{self.endpoint}/moto-api/reset', timeout=10).raise_for_status()
