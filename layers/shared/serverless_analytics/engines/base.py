"""The engine interface: run SQL now, or start it and poll it (for Cube's "Continue wait")."""

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Self


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


@dataclass(frozen=True)
class PollSchedule:
    """When `wait_for` polls, in seconds since it began waiting: first at `first_poll`, then each poll
    `gap_after(elapsed)` after the one before. With the gap `fraction` × elapsed + `slack`, a query that ends at
    T ≥ `first_poll` is seen at most `fraction` × T + `slack` later, whatever T, since the poll before its end was
    at an elapsed time under T. `max_gap` caps the gap; a pure value, so the schedule is tested on its own."""

    first_poll: float
    fraction: float
    slack: float
    max_gap: float = math.inf

    @classmethod
    def doubling(cls, first_delay: float, max_delay: float) -> Self:
        """Poll at once, then after `first_delay`, each delay twice the last up to `max_delay`: after polls at
        0, d, 3d, 7d … the next delay (2d, 4d, 8d …) is the elapsed time plus d."""
        return cls(first_poll=0.0, fraction=1.0, slack=first_delay, max_gap=max_delay)

    def gap_after(self, elapsed: float) -> float:
        return min(self.fraction * elapsed + self.slack, self.max_gap)

    def poll_times(self) -> Iterator[float]:
        """The nominal poll times (polls that took no time), for the model in bench_athena_poll and the tests."""
        elapsed = self.first_poll
        while True:
            yield elapsed
            elapsed += self.gap_after(elapsed)


class QueryEngine(ABC):
    """`dialect` is the sqlglot dialect to render; `lake_source` the SQL of the events scan in that dialect, and
    `usage_source` and `builds_source` those of the usage rollup's files (logic.usage_rollup), each with the
    `project_id` and `dt` partition columns as text, as the events have; `catalogue_source` that of its one app
    catalogue per project, with `project_id` only."""

    dialect: str
    db_type: str
    lake_source: str
    # For an engine that answers a poll for free but cannot signal its queries' end: poll at once, then after 2 ms,
    # doubling up to 50 ms. Athena, whose polls are API calls, has its own.
    poll_schedule: PollSchedule = PollSchedule.doubling(0.002, 0.05)

    def partition_source(self, project_id: str, dt_low: str | None, dt_high: str | None) -> str | None:
        """A scan of only one project's `dt` partitions in [dt_low, dt_high], where the engine can name them more
        cheaply than `lake_source` filters to them; None to use `lake_source` (always correct: the caller keeps
        the project and `dt` predicates either way)."""
        return None

    def user_sessions_source(self, project_id: str) -> str | None:
        """The scan of the project's user-session index (logic.user_sessions: session_id, user_id, first_at, and
        `project_id` as text), or None where the engine has none for it: the Cube compiler then reads the index's
        view over the project's events instead (always right, at the cost of reading every event)."""
        return None

    @property
    def usage_source(self) -> str:
        """The scan of the 30-minute usage buckets (logic.usage_buckets.BUCKET_SCHEMA)."""
        raise NotImplementedError(f'{type(self).__name__} does not read the usage rollup')

    @property
    def builds_source(self) -> str:
        """The scan of the workspace builds (logic.workspace_builds.BUILD_SCHEMA)."""
        raise NotImplementedError(f'{type(self).__name__} does not read the usage rollup')

    @property
    def catalogue_source(self) -> str:
        """The scan of the projects' app catalogues (logic.app_catalogue.CATALOGUE_SCHEMA)."""
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
    *,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[QueryResult] | None:
    """Poll every execution on the engine's `poll_schedule` until all finished (results in order) or `timeout`
    seconds passed (None, the caller's "Continue wait"). The last poll is at the deadline and no sleep goes past it.
    An engine that knows when its queries end (in-process DuckDB) is never slept on: it is waited on, then polled.

    `monotonic` and `sleep` are the clock, for tests and the bench to drive with a fake one."""
    started = monotonic()
    deadline = math.inf if timeout is None else started + timeout
    engine.wait_until_finished(execution_ids, timeout)
    schedule = engine.poll_schedule
    results: dict[str, QueryResult] = {}
    poll_at = started + schedule.first_poll
    while True:
        at_deadline = poll_at >= deadline
        polled_at = _sleep_until(min(poll_at, deadline), monotonic, sleep)
        _poll_unfinished(engine, execution_ids, results)
        if len(results) == len(set(execution_ids)):
            return [results[execution_id] for execution_id in execution_ids]
        if at_deadline or monotonic() >= deadline:
            return None
        # From when this round of polls began, not ended: the round's API calls do not push the schedule back.
        poll_at = polled_at + schedule.gap_after(polled_at - started)


def _sleep_until(moment: float, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> float:
    """Sleep until `moment` if it is still ahead; returns the time then."""
    now = monotonic()
    if moment > now:
        sleep(moment - now)
        now = monotonic()
    return now


def _poll_unfinished(engine: QueryEngine, execution_ids: list[str], results: dict[str, QueryResult]) -> None:
    """Poll each execution not yet finished once (a finished one costs no further call), keeping the results."""
    for execution_id in execution_ids:
        if execution_id not in results:
            result = engine.poll(execution_id)
            if result is not None:
                results[execution_id] = result
