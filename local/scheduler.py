"""The EventBridge schedules of template.yaml, run locally: each scheduled function is invoked at its rate or
cron times with the event EventBridge would send (the template's fixed `Input`, else a Scheduled Event envelope).

Like EventBridge, a rate's first run comes one period after the start, and a cron schedule runs at its next
matching UTC minute (EventBridge's six-field syntax, read by pyawscron). `python -m local invoke <Function>` runs
any function by hand; `python -m local run-schedules` runs every scheduled function once, now.
"""

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.runtime import FunctionRegistry
from local.template import ACCOUNT_ID, REGION, STACK_NAME, FunctionSpec, ScheduleSource

_LOG = logging.getLogger('local.scheduler')
_RATE = re.compile(r'rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)')
_UNIT_SECONDS = {'minute': 60, 'hour': 3600, 'day': 86_400}


def rate_seconds(expression: str) -> int | None:
    """The period of a `rate(...)` expression in seconds; None for anything else (cron)."""
    match = _RATE.fullmatch(expression.strip())
    if not match or int(match.group(1)) < 1:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip('s')]


def cron_expression(expression: str) -> str | None:
    """The fields of a `cron(...)` expression; None for anything else."""
    expression = expression.strip()
    return expression[5:-1].strip() if expression.startswith('cron(') and expression.endswith(')') else None


def next_cron_time(fields: str, after: datetime) -> datetime:
    """The first time after `after` (UTC) that the EventBridge cron fields match."""
    from pyawscron import AWSCron  # EventBridge's own cron dialect (`?`, `L`, `W`, `#`, the year field)

    return AWSCron(fields).occurrence(after.astimezone(UTC)).next()


def scheduled_event(spec: FunctionSpec, schedule: ScheduleSource, now: datetime) -> dict[str, Any]:
    """What EventBridge sends the function for one run of the schedule."""
    if schedule.input is not None:
        return dict(schedule.input)
    rule = f'arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{STACK_NAME}-{spec.logical_id}{schedule.name}'
    return {
        'version': '0',
        'id': str(uuid.uuid4()),
        'detail-type': 'Scheduled Event',
        'source': 'aws.events',
        'account': ACCOUNT_ID,
        'time': now.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'region': REGION,
        'resources': [rule],
        'detail': {},
    }


@dataclass
class _Job:
    spec: FunctionSpec
    schedule: ScheduleSource
    period: int | None  # seconds, for a rate; None for a cron schedule
    due: float


class Scheduler:
    """Runs the enabled schedules; `run_due(now)` is one tick, which the thread calls every second. `clock` is the
    monotonic time the ticks compare, `wall_clock` the UTC time a cron schedule is read against."""

    def __init__(
        self,
        scheduled: list[tuple[FunctionSpec, ScheduleSource]],
        functions: FunctionRegistry,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._functions = functions
        self._clock = clock
        self._wall_clock = wall_clock
        self._jobs = []
        started = clock()
        for spec, schedule in scheduled:
            if not schedule.enabled:
                continue
            period = rate_seconds(schedule.expression)
            if period is None and cron_expression(schedule.expression) is None:
                _LOG.warning('%s: %s is not a schedule expression', spec.logical_id, schedule.expression)
                continue
            job = _Job(spec, schedule, period, started)
            job.due = self._next_due(job, started)
            self._jobs.append(job)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def _next_due(self, job: _Job, now: float) -> float:
        if job.period is not None:
            return now + job.period
        fields = cron_expression(job.schedule.expression)
        assert fields is not None  # only rate and cron schedules become jobs
        wall = self._wall_clock()
        return now + (next_cron_time(fields, wall) - wall).total_seconds()

    def run_due(self, now: float) -> list[tuple[str, Any]]:
        """Invoke every job whose time has come (once, however late: EventBridge does not catch up)."""
        return [self._run(job, now) for job in self._jobs if now >= job.due]

    def run_all(self) -> list[tuple[str, Any]]:
        """Invoke every job now, as if each schedule had just come round."""
        return [self._run(job, self._clock()) for job in self._jobs]

    def _run(self, job: _Job, now: float) -> tuple[str, Any]:
        job.due = self._next_due(job, now)
        return job.spec.logical_id, self._invoke(job)

    def _invoke(self, job: _Job) -> Any:
        event = scheduled_event(job.spec, job.schedule, datetime.now(UTC))
        try:
            return self._functions[job.spec.logical_id].invoke(event)
        except Exception as error:  # a failed run is logged, as in CloudWatch; the schedule goes on
            _LOG.exception('%s failed on its schedule', job.spec.logical_id)
            return {'errorType': type(error).__name__, 'errorMessage': str(error)}

    def start(self) -> None:
        if not self._jobs:
            return
        self._thread = threading.Thread(target=self._loop, name='local-scheduler', daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(1.0):
            self.run_due(self._clock())

    def stop(self) -> None:
        self._stopped.set()
        if self._thread:
            self._thread.join(timeout=30)
            self._thread = None
