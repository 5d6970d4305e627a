"""Loads across requests: what a "Continue wait" keeps in the query-state table, and what its retry does with it."""

from datetime import UTC, datetime

import pytest

from local.environment import stack_settings
from serverless_analytics.engines import QueryEngine, QueryResult, ResultColumn
from serverless_analytics.logic import cube_queries
from serverless_analytics.models.errors import ContinueWait, UnknownExecutionError

NOW = datetime(2024, 5, 15, 13, 3, tzinfo=UTC)
QUERY = {'measures': ['TrackedEvents.count']}
SETTINGS = stack_settings(QUERY_WAIT_SECONDS=0.02)


class ScriptedEngine(QueryEngine):
    """Each execution does what `fates` says ('done', 'running' or 'failed'); one not in `fates` is unknown."""

    dialect = db_type = 'duckdb'
    lake_source = 'events'

    def __init__(self) -> None:
        self.next_fate = 'done'
        self.fates: dict[str, str] = {}
        self.started: list[str] = []

    def start(self, sql: str) -> str:
        execution_id = f'execution-{len(self.started)}'
        self.started.append(execution_id)
        self.fates[execution_id] = self.next_fate
        return execution_id

    def poll(self, execution_id: str) -> QueryResult | None:
        if execution_id not in self.fates:
            raise UnknownExecutionError(execution_id)
        match self.fates[execution_id]:
            case 'running':
                return None
            case 'failed':
                raise RuntimeError(f'{execution_id} failed')
        return QueryResult([ResultColumn('count', 'BIGINT')], [(3,)])


class StateTable:
    """The query-state table; deleting an item that is not there fails, as no load should."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    def get_item(self, table: str, key: dict) -> dict | None:
        return self.items.get(key['cache_key'])

    def put_item(self, table: str, item: dict) -> None:
        self.items[item['cache_key']] = item

    def delete_item(self, table: str, key: dict) -> None:
        del self.items[key['cache_key']]

    def kept(self) -> list[list[str]]:
        return [item['execution_ids'] for item in self.items.values()]


@pytest.fixture
def engine(monkeypatch) -> ScriptedEngine:
    engine = ScriptedEngine()
    monkeypatch.setattr(cube_queries, 'query_engine', lambda settings: engine)
    return engine


@pytest.fixture
def state(monkeypatch) -> StateTable:
    state = StateTable()
    monkeypatch.setattr(cube_queries, 'dynamodb', state)
    return state


def _load() -> dict:
    return cube_queries.load('1', QUERY, None, SETTINGS, now=NOW)


def _continue_wait(engine: ScriptedEngine) -> None:
    engine.next_fate = 'running'
    with pytest.raises(ContinueWait):
        _load()


def test_a_finished_load_keeps_nothing(engine, state):
    assert _load()['data'] == [{'TrackedEvents.count': '3'}]
    assert state.items == {}


def test_a_failed_load_keeps_nothing(engine, state):
    engine.next_fate = 'failed'
    with pytest.raises(RuntimeError):
        _load()
    assert state.items == {}


def test_a_load_still_running_keeps_its_executions(engine, state):
    _continue_wait(engine)
    assert state.kept() == [['execution-0']]


def test_the_retry_resumes_the_kept_executions_and_forgets_them(engine, state):
    _continue_wait(engine)
    engine.fates['execution-0'] = 'done'

    assert _load()['data'] == [{'TrackedEvents.count': '3'}]
    assert engine.started == ['execution-0']  # nothing new started
    assert state.items == {}


def test_a_retry_still_running_keeps_the_same_executions(engine, state):
    _continue_wait(engine)
    with pytest.raises(ContinueWait):
        _load()
    assert engine.started == ['execution-0']
    assert state.kept() == [['execution-0']]


def test_a_kept_execution_that_failed_is_forgotten(engine, state):
    _continue_wait(engine)
    engine.fates['execution-0'] = 'failed'

    with pytest.raises(RuntimeError):
        _load()
    assert state.items == {}


def test_kept_executions_the_engine_lost_are_run_again(engine, state):
    _continue_wait(engine)
    del engine.fates['execution-0']  # the engine was restarted
    engine.next_fate = 'done'

    assert _load()['data'] == [{'TrackedEvents.count': '3'}]
    assert engine.started == ['execution-0', 'execution-1']
    assert state.items == {}


def test_a_rerun_of_lost_executions_still_running_is_kept_in_their_place(engine, state):
    _continue_wait(engine)
    del engine.fates['execution-0']

    with pytest.raises(ContinueWait):
        _load()
    assert state.kept() == [['execution-1']]


def test_an_expired_state_is_not_resumed(engine, state):
    _continue_wait(engine)
    for item in state.items.values():
        item['expires_at'] = int(NOW.timestamp())
    engine.next_fate = 'done'

    assert _load()['data'] == [{'TrackedEvents.count': '3'}]
    assert engine.started == ['execution-0', 'execution-1']
