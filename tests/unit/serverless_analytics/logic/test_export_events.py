"""The export's default page size, and its query time budget that the page and a follow-up count share (recording
engine, fake clock)."""

import json
from datetime import UTC, datetime

import pytest

from local.environment import stack_settings
from serverless_analytics.engines import QueryEngine, QueryResult
from serverless_analytics.engines.base import ResultColumn
from serverless_analytics.logic import export_events as module
from serverless_analytics.logic.export_sql import EVENT_COLUMNS
from serverless_analytics.models.export import EventsRequest


class _EmptyLake(QueryEngine):
    """Answers every query with no rows (a count with 0), advancing the fake clock by `seconds_per_query`."""

    dialect = 'duckdb'
    db_type = 'duckdb'
    lake_source = 'lake'

    def __init__(self, clock: list[float], seconds_per_query: float):
        self.clock, self.seconds_per_query, self.timeouts = clock, seconds_per_query, []

    def execute(self, sql, timeout=None):
        self.timeouts.append(timeout)
        self.clock[0] += self.seconds_per_query
        rows = [(0,)] if 'count(' in sql.lower() and 'over' not in sql.lower() else []
        return QueryResult([ResultColumn('n', 'bigint')], rows)

    def start(self, sql):
        raise NotImplementedError

    def poll(self, execution_id):
        raise NotImplementedError


def test_a_count_after_an_empty_page_gets_only_the_time_the_page_left(monkeypatch):
    # Given: a page past the end whose query takes 20 of the request's 25 seconds
    clock = [1000.0]
    monkeypatch.setattr(module.time, 'monotonic', lambda: clock[0])
    engine = _EmptyLake(clock, seconds_per_query=20)
    settings = stack_settings(EXPORT_QUERY_TIMEOUT_SECONDS=25)
    body = {'startDate': '2026-11-01', 'paging': {'page': 3, 'perPage': 10}}
    request = EventsRequest.model_validate(body, context=settings)

    # When
    response = module.export_events('1', request, settings, datetime(2026, 11, 22, tzinfo=UTC), engine)

    # Then: the page query had the whole budget, the count the 5 seconds left
    assert engine.timeouts == [25, 5]
    assert response.paging.total_count == 0


def test_no_count_is_started_when_the_page_used_up_the_time(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(module.time, 'monotonic', lambda: clock[0])
    engine = _EmptyLake(clock, seconds_per_query=25)
    settings = stack_settings(EXPORT_QUERY_TIMEOUT_SECONDS=25)
    request = EventsRequest.model_validate(
        {'startDate': '2026-11-01', 'paging': {'page': 3, 'perPage': 10}}, context=settings
    )

    with pytest.raises(TimeoutError):
        module.export_events('1', request, settings, datetime(2026, 11, 22, tzinfo=UTC), engine)

    assert engine.timeouts == [25]  # the page query only


def test_without_paging_the_first_page_has_the_largest_size_of_the_given_settings():
    engine = _EmptyLake([0.0], seconds_per_query=0)
    request = EventsRequest.model_validate({'startDate': '2026-11-01'})

    response = module.export_events(
        '1', request, stack_settings(EXPORT_MAX_PER_PAGE=7), datetime(2026, 11, 22, tzinfo=UTC), engine
    )

    assert response.paging.model_dump(by_alias=True) == {'page': 1, 'perPage': 7, 'totalCount': 0, 'lastPage': True}


class _OneRowLake(_EmptyLake):
    """Answers the page query with one stored event whose properties text is `properties`."""

    def __init__(self, properties: str):
        super().__init__([0.0], seconds_per_query=0)
        self.properties = properties

    def execute(self, sql, timeout=None):
        row = dict.fromkeys(EVENT_COLUMNS) | {
            'event_id': 'e1',
            'name': 'click',
            'timestamp': datetime(2026, 11, 10, tzinfo=UTC),
            'offline': False,
            'properties': self.properties,
            'total_count': 1,
        }
        return QueryResult([ResultColumn(name, 'varchar') for name in row], [tuple(row.values())])


def test_non_finite_numbers_stored_before_ingestion_refused_them_are_exported_as_null():
    # Given: a lake row written before NaN and Infinity were refused at ingestion
    engine = _OneRowLake('{"score":NaN,"range":[-Infinity,Infinity],"big":123456789012345678901234567890}')
    request = EventsRequest.model_validate({'startDate': '2026-11-01'})

    response = module.export_events('1', request, stack_settings(), datetime(2026, 11, 22, tzinfo=UTC), engine)

    # Then: the page is valid JSON (`JSON.parse` takes it), and a big integer keeps every digit
    [event] = response.model_dump(by_alias=True)['results']
    assert event['parameters'] == {'score': None, 'range': [None, None], 'big': 123456789012345678901234567890}
    json.dumps(response.model_dump(by_alias=True), allow_nan=False)
