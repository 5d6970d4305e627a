"""Athena's poll schedule (issue 17): the latency it adds and the GetQueryExecution calls it makes, new beside old.

A model, not a measurement: `wait_for` itself runs on a fake clock against a fake engine whose query ends at a
chosen time, each poll taking no time (a real GetQueryExecution round trip, tens of ms, and the GetQueryResults
after it come on top, the same for any schedule). The added latency is the time from the query's end to the poll
that sees it; the bound the issue sets is 10% of the query time plus 100 ms. "worst" is the latency of the
unluckiest query ending in the same gap between polls: one ending just after the poll before, which waits the
whole gap ("of it": as a fraction of that query's own time). Latencies in ms.

Default quota: 100 GetQueryExecution calls a second per account (bursts of 200), shared by every running query;
"calls/s" is a query's average rate, so about 100 / calls/s such queries can be polled at once.

Run: `PYTHONPATH=. .venv/bin/python bench/bench_athena_poll.py` (or make bench).
"""

import itertools

from bench.common import RUNS  # noqa: F401 - first: it puts the layer on the path
from serverless_analytics.engines.athena_engine import ATHENA_POLL_SCHEDULE
from serverless_analytics.engines.base import PollSchedule, QueryEngine, QueryResult, wait_for

OLD_SCHEDULE = PollSchedule.doubling(0.2, 2.0)  # the schedule before issue 17: at once, then 0.2 s doubling to 2 s
QUERY_TIMES = [0.3, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 60]
SHORTEST_QUERY = 0.3  # no Athena query ends sooner (queueing, planning, writing its result)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class ModelEngine(QueryEngine):
    """One execution, ending at `query_time` on the fake clock; counts its polls."""

    dialect = db_type = lake_source = 'model'

    def __init__(self, schedule: PollSchedule, query_time: float) -> None:
        self.schedule, self.query_time, self.clock, self.polls = schedule, query_time, FakeClock(), 0

    @property
    def poll_schedule(self) -> PollSchedule:
        return self.schedule

    def start(self, sql: str) -> str:
        return 'q'

    def poll(self, execution_id: str) -> QueryResult | None:
        self.polls += 1
        return QueryResult() if self.clock.now >= self.query_time else None


def added_latency_and_calls(schedule: PollSchedule, query_time: float) -> tuple[float, int]:
    engine = ModelEngine(schedule, query_time)
    wait_for(engine, ['q'], None, monotonic=engine.clock.monotonic, sleep=engine.clock.sleep)
    return engine.clock.now - query_time, engine.polls


def worst_near(schedule: PollSchedule, query_time: float) -> tuple[float, float]:
    """The unluckiest query ending in the same gap between polls as `query_time`: it ends just after the poll
    before (or is the shortest query, before the first poll) and waits the whole gap. Its latency and its time."""
    earlier = SHORTEST_QUERY
    for poll_time in schedule.poll_times():
        if poll_time >= query_time:
            return poll_time - earlier, earlier
        earlier = max(poll_time, SHORTEST_QUERY)
    raise AssertionError('a schedule never ends')


def row(schedule: PollSchedule, query_time: float) -> str:
    added, calls = added_latency_and_calls(schedule, query_time)
    worst, its_time = worst_near(schedule, query_time)
    return (
        f'{added * 1000:6.0f} {added / query_time:5.0%} {worst * 1000:6.0f} {worst / its_time:5.0%}'
        f' {calls:5d} {calls / query_time:5.1f}'
    )


def main() -> None:
    print(f'new: {ATHENA_POLL_SCHEDULE}')
    print(f'old: {OLD_SCHEDULE}')
    first_polls = [f'{t:.3g}' for t in itertools.islice(ATHENA_POLL_SCHEDULE.poll_times(), 12)]
    print(f'new poll times (s): {", ".join(first_polls)} …')
    columns = f'{"added":>6} {"of T":>5} {"worst":>6} {"of it":>5} {"calls":>5} {"/s":>5}'
    print(f'\n{"":>7} {"bound":>7} | {"new":^38} | {"old (0.2 s doubling to 2 s)":^38}')
    print(f'{"T (s)":>7} {"ms":>7} | {columns} | {columns}')
    for query_time in QUERY_TIMES:
        bound = 0.1 * query_time + 0.1
        new, old = row(ATHENA_POLL_SCHEDULE, query_time), row(OLD_SCHEDULE, query_time)
        print(f'{query_time:7.1f} {bound * 1000:7.0f} | {new} | {old}')


if __name__ == '__main__':
    main()
