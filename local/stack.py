"""The whole local stack in one object: moto, the template's resources, the gateway, the stream poller and the
scheduler."""

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from local.environment import EnvironmentPatch, apply_stack_environment, local_client
from local.gateway import Gateway
from local.moto_server import LocalMotoServer
from local.poller import KinesisPoller
from local.provision import provision
from local.runtime import FunctionRegistry
from local.scheduler import Scheduler
from local.template import TEMPLATE_PATH, Template

DEFAULT_API_KEY = 'local-dev-key'
LOCAL_PROJECT_ID = '1'


def configured_api_key() -> str:
    return os.environ.get('LOCAL_API_KEY', DEFAULT_API_KEY)


def create_local_key(api_key: str, project_id: str = LOCAL_PROJECT_ID) -> str:
    """Store the development key of the local project with every scope (idempotent: same key, same id)."""
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import create_key
    from serverless_analytics.models.api_key import Scope

    _, record = create_key(get_settings(), project_id, list(Scope), 'local', key=api_key)
    return record.key_id


class LocalStack:
    """Start with `start()` (or `with LocalStack() as stack:`); port None reads the environment, 0 picks a free one."""

    def __init__(
        self,
        moto_port: int | None = None,
        api_port: int | None = None,
        api_key: str | None = None,
        template_path: Path = TEMPLATE_PATH,
        parameter_overrides: Mapping[str, str] | None = None,
        poll_interval_seconds: float = 0.2,
    ) -> None:
        self.template = Template.load(template_path, parameter_overrides)
        self.moto = LocalMotoServer(moto_port)
        self._api_port = api_port
        self.api_key = api_key or configured_api_key()
        self._poll_interval_seconds = poll_interval_seconds
        self.functions = FunctionRegistry(self.template.functions)
        self.gateway: Gateway | None = None
        self.pollers: list[KinesisPoller] = []
        self.scheduler = Scheduler(self.template.scheduled, self.functions)
        self._environment: EnvironmentPatch | None = None

    def start(self) -> 'LocalStack':
        self.moto.start()
        try:
            self.moto.reset()
            provision(self.template, self.aws_endpoint)
            self._environment = apply_stack_environment(
                self.aws_endpoint, self.template.functions.values(), self.template.layer_dirs
            )
            create_local_key(self.api_key)
            self.gateway = Gateway.for_template(self.template, self.functions, self._api_port)
            self.gateway.start()
            self._start_pollers()
            self.scheduler.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_pollers(self) -> None:
        """One poller per event source mapping of the stream, as Lambda runs one per mapping."""
        for consumer in self.template.stream_consumers:
            poller = KinesisPoller(self.functions[consumer.logical_id], self.aws_endpoint, self._poll_interval_seconds)
            poller.start()
            self.pollers.append(poller)

    def stop(self) -> None:
        self.scheduler.stop()
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self.gateway:
            self.gateway.stop()
            self.gateway = None
        if self._environment:
            self._environment.restore()
            self._environment = None
        if self.moto._server is not None:
            self.moto.stop()

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every consumer of the stream has handled every record now in it."""
        for poller in self.pollers:
            poller.drain(timeout)

    @property
    def url(self) -> str:
        if self.gateway is None:
            raise RuntimeError('The stack is not running')
        return self.gateway.url

    @property
    def aws_endpoint(self) -> str:
        return self.moto.endpoint

    @property
    def kinesis_faults(self) -> Any:
        return self.moto.kinesis_faults

    def client(self, service: str) -> Any:
        """A boto3 client of the local endpoint, for looking at what landed."""
        return local_client(service, self.aws_endpoint)

    def name_of(self, logical_id: str) -> str:
        """The local physical name of a template resource (e.g. LakeBucket -> lakebucket)."""
        return self.template.physical_name(logical_id)

    def __enter__(self) -> 'LocalStack':
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
