"""The engine interface: run SQL now, or start it and poll it (for Cube's "Continue wait")."""

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


class QueryExecutionError(Exception):
    """The engine failed to run a query (its own reason in the message). The compiler hands engines only queries it
    validated, so this is the backend failing (an unreadable file, a cancelled execution), never a client's
    mistake: each API family answers it as its "backend unavailable"."""


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: str


@dataclass
class QueryResult:
    """Typed rows: Python values (str, int, float, Decimal, bool, datetime, date or None)."""

    columns: list[ResultColumn] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)


class QueryEngine(ABC):
    """`dialect` is the sqlglot dialect to render; `lake_source` the SQL of the events scan in that dialect, and
    `usage_source` and `builds_source` those of the usage rollup's files (logic.usage_rollup), each with the
    `project_id` and `dt` partition columns as text, as the events have."""

    dialect: str
    db_type: str
    lake_source: str
    # How `wait_for` polls: an in-process engine answers a poll for free, Athena's costs an API call.
    poll_first_delay: float = 0.002
    poll_max_delay: float = 0.05

    @property
    def usage_source(self) -> str:
        """The scan of the 30-minute usage buckets (logic.usage_buckets.BUCKET_SCHEMA)."""
        raise NotImplementedError(f'{type(self).__name__} does not read the usage rollup')

    @property
    def builds_source(self) -> str:
        """The scan of the workspace builds (logic.workspace_builds.BUILD_SCHEMA)."""
        raise NotImplementedError(f'{type(self).__name__} does not read the usage rollup')

    @abstractmethod
    def start(self, sql: str) -> str:
        """Start `sql`; returns an execution id that `poll` accepts (also from another invocation, for Athena)."""

    @abstractmethod
    def poll(self, execution_id: str) -> QueryResult | None:
        """The result when the execution has finished, None while it runs; raises if it failed."""

    def wait_until_finished(self, execution_ids: Sequence[str], timeout: float | None) -> None:
        """Return once every execution has finished or `timeout` seconds passed, if the engine can be told when a
        query ends; `wait_for` then polls once instead of sleeping. Athena cannot (it is polled), so by default this
        returns at once."""
        return None

    def execute(self, sql: str, timeout: float | None = None) -> QueryResult:
        """Run `sql` to completion (start, then poll with backoff)."""
        execution_id = self.start(sql)
        result = wait_for(self, [execution_id], timeout)
        if result is None:
            raise TimeoutError(f'Query {execution_id} still running after {timeout} s')
        return result[0]


def wait_for(
    engine: QueryEngine,
    execution_ids: list[str],
    timeout: float | None,
) -> list[QueryResult] | None:
    """Poll every execution until all finished (results in order) or `timeout` seconds passed (None). An engine that
    knows when its queries end (in-process DuckDB) is never slept on: it is waited on, then polled."""
    deadline = None if timeout is None else time.monotonic() + timeout
    engine.wait_until_finished(execution_ids, timeout)
    results: dict[str, QueryResult] = {}
    delay = engine.poll_first_delay
    while True:
        for execution_id in execution_ids:
            if execution_id not in results:
                result = engine.poll(execution_id)
                if result is not None:
                    results[execution_id] = result
        if len(results) == len(set(execution_ids)):
            return [results[execution_id] for execution_id in execution_ids]
        if deadline is not None and time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, engine.poll_max_delay)
