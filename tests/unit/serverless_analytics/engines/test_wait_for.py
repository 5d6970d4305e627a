"""`wait_for` and the poll schedules, on a fake clock: queries that end at chosen fake times, polls that take no
time, and no real sleep. The added latency is the time from a query's end to the poll that sees it."""

import itertools

import pytest

from serverless_analytics.engines.athena_engine import ATHENA_POLL_SCHEDULE
from serverless_analytics.engines.base import PollSchedule, QueryEngine, QueryResult, wait_for

QUERY_TIMES = [0.3, 0.5, 1, 1.5, 2, 5, 10, 30, 60]
# GetQueryExecution calls until the poll that sees the query finished (the table in docs/cube.md).
ATHENA_POLLS = {0.3: 1, 0.5: 2, 1: 5, 1.5: 8, 2: 10, 5: 17, 10: 24, 30: 35, 60: 42}


def _bound(query_time: float) -> float:
    """The issue's bound on the added latency: 10% of the query time plus 100 ms."""
    return 0.1 * query_time + 0.1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


class FakeEngine(QueryEngine):
    """Executions that end at fake times; every poll is recorded with the time it was made."""

    dialect = db_type = lake_source = 'fake'

    def __init__(self, clock: FakeClock, schedule: PollSchedule | None, ends_at: dict[str, float]) -> None:
        self.clock, self.schedule, self.ends_at = clock, schedule, ends_at
        self.polls: list[tuple[str, float]] = []

    @property
    def poll_schedule(self) -> PollSchedule:
        """The given schedule, else the engines' default one."""
        return self.schedule or super().poll_schedule

    def start(self, sql: str) -> str:
        raise NotImplementedError

    def poll(self, execution_id: str) -> QueryResult | None:
        self.polls.append((execution_id, self.clock.now))
        if self.clock.now < self.ends_at[execution_id]:
            return None
        return QueryResult(rows=[(execution_id,)])

    def polls_of(self, execution_id: str) -> list[float]:
        return [at for polled, at in self.polls if polled == execution_id]


def _wait(engine: FakeEngine, execution_ids: list[str], timeout: float | None) -> list[QueryResult] | None:
    return wait_for(engine, execution_ids, timeout, monotonic=engine.clock.monotonic, sleep=engine.clock.sleep)


def _athena(ends_at: dict[str, float]) -> FakeEngine:
    return FakeEngine(FakeClock(), ATHENA_POLL_SCHEDULE, ends_at)


@pytest.mark.parametrize('query_time', QUERY_TIMES)
def test_athena_sees_a_query_within_a_tenth_of_its_time_plus_100_ms(query_time):
    engine = _athena({'q': query_time})

    [result] = _wait(engine, ['q'], timeout=None)

    assert result.rows == [('q',)]
    added_latency = engine.clock.now - query_time
    assert 0 <= added_latency <= _bound(query_time)
    assert len(engine.polls) == ATHENA_POLLS[query_time]


def test_the_athena_schedule_keeps_the_bound_for_every_query_time_from_0_3_s():
    # The worst query ends just after a poll: it waits the whole gap to the next one.
    times = list(itertools.takewhile(lambda t: t < 600, ATHENA_POLL_SCHEDULE.poll_times()))

    assert times[0] - 0.3 <= _bound(0.3)
    assert all(later - earlier < _bound(earlier) for earlier, later in itertools.pairwise(times))


def test_the_athena_schedule_polls_first_at_0_4_s_then_10_percent_plus_90_ms_later_each_time():
    times = list(itertools.takewhile(lambda t: t < 60, ATHENA_POLL_SCHEDULE.poll_times()))

    assert times[:3] == pytest.approx([0.4, 0.53, 0.673])
    assert len(times) == 41
    assert ATHENA_POLL_SCHEDULE.gap_after(60) < 6.1


def test_a_timed_out_wait_polls_last_at_the_deadline_and_never_sleeps_past_it():
    engine = _athena({'q': 30})

    assert _wait(engine, ['q'], timeout=5) is None

    assert engine.clock.now == pytest.approx(5)  # answered "Continue wait" at the deadline, not after it
    assert engine.clock.now <= 5 + 1e-9
    assert engine.polls_of('q')[-1] == engine.clock.now


def test_a_query_ending_just_before_the_deadline_is_answered_in_this_request():
    engine = _athena({'q': 4.99})

    [result] = _wait(engine, ['q'], timeout=5)

    assert result.rows == [('q',)]
    assert engine.clock.now == pytest.approx(5)


def test_a_resumed_wait_keeps_the_bound_on_the_whole_query_time():
    """Cube's "Continue wait": the next request polls the same execution, on a schedule started anew."""
    engine = _athena({'q': 7})
    assert _wait(engine, ['q'], timeout=5) is None

    [result] = _wait(engine, ['q'], timeout=5)

    assert result.rows == [('q',)]
    assert engine.clock.now - 7 <= _bound(7)


def test_no_time_to_wait_polls_once():
    engine = _athena({'q': 1})

    assert _wait(engine, ['q'], timeout=0) is None

    assert engine.polls == [('q', 0)]
    assert engine.clock.sleeps == []


def test_executions_waited_for_together_are_each_seen_within_the_bound_and_no_longer_polled_once_seen():
    ends_at = {'short': 0.5, 'medium': 2, 'long': 10}
    engine = _athena(ends_at)

    results = _wait(engine, ['long', 'short', 'medium'], timeout=None)

    assert [result.rows for result in results or []] == [[('long',)], [('short',)], [('medium',)]]
    for execution_id, query_time in ends_at.items():
        seen_at = engine.polls_of(execution_id)[-1]
        assert 0 <= seen_at - query_time <= _bound(query_time)
        assert len(engine.polls_of(execution_id)) == ATHENA_POLLS[query_time]


def test_the_default_schedule_polls_at_once_then_doubles_from_2_ms_to_50_ms():
    engine = FakeEngine(FakeClock(), None, {'q': 0.2})

    _wait(engine, ['q'], timeout=None)

    assert engine.polls_of('q') == pytest.approx([0, 0.002, 0.006, 0.014, 0.030, 0.062, 0.112, 0.162, 0.212])


def test_the_doubling_schedule_is_the_old_athena_one():
    times = itertools.islice(PollSchedule.doubling(0.2, 2.0).poll_times(), 7)

    assert list(times) == pytest.approx([0, 0.2, 0.6, 1.4, 3.0, 5.0, 7.0])
