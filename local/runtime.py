"""Invoking a handler the way the Lambda runtime does: imported once, one request at a time, with a context."""

import importlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.template import FunctionSpec

_LOG = logging.getLogger('local.runtime')


@dataclass
class LambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = '$LATEST'
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f'/aws/lambda/{self.function_name}'

    @property
    def log_stream_name(self) -> str:
        return f'{time.strftime("%Y/%m/%d")}/[$LATEST]{uuid.uuid4().hex}'

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(int((self.timeout_seconds - elapsed) * 1000), 0)


class LocalFunction:
    """One function of the template, as one warm Lambda instance.

    The handler modules keep per-request state at module level (Powertools resolvers), which is safe in
    Lambda because an instance serves one request at a time; the lock gives the same guarantee here.
    """

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._handler: Any = None

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.spec.logical_id,
            memory_limit_in_mb=self.spec.memory_mb,
            invoked_function_arn=self.spec.arn,
            timeout_seconds=self.spec.timeout_seconds,
        )

    def _load(self) -> Any:
        if self._handler is None:
            module = importlib.import_module(self.spec.module)
            self._handler = getattr(module, self.spec.handler_name)
        return self._handler

    def invoke(self, event: dict[str, Any], context: LambdaContext | None = None) -> Any:
        with self._lock:
            handler = self._load()
            context = context or self.context()
            started = time.monotonic()
            try:
                return handler(event, context)
            finally:
                elapsed = time.monotonic() - started
                if elapsed > self.spec.timeout_seconds:
                    _LOG.warning(
                        '%s ran %.1fs, longer than its %ss timeout (Lambda would have stopped it)',
                        self.spec.logical_id,
                        elapsed,
                        self.spec.timeout_seconds,
                    )


class FunctionRegistry:
    """The warm instances of the stack, one per function."""

    def __init__(self, specs: dict[str, FunctionSpec]) -> None:
        self._functions = {logical_id: LocalFunction(spec) for logical_id, spec in specs.items()}

    def __getitem__(self, logical_id: str) -> LocalFunction:
        return self._functions[logical_id]
