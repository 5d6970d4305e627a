"""The export's request parsing: JSON body, FT's query-parameter paging, and 400 messages naming each problem."""

import json

import pytest

from serverless_analytics.config import Settings
from serverless_analytics.http.export_api import error_body, event_counts_request, events_request
from serverless_analytics.models.export import ExportRequestError
from tests.unit.serverless_analytics.conftest import http_api_event


class _Event:
    def __init__(self, body: str, query: dict[str, str] | None = None):
        self.decoded_body = body
        self.query_string_parameters = query


class _App:
    def __init__(self, body: object, query: dict[str, str] | None = None):
        self.current_event = _Event(body if isinstance(body, str) else json.dumps(body), query)


def test_query_parameters_win_over_the_body():
    app = _App({'startDate': '2026-11-01', 'paging': {'page': 1, 'perPage': 20}}, {'page': '4', 'per_page': '5'})
    paging = events_request(app, Settings()).paging
    assert (paging.page, paging.per_page) == (4, 5)


def test_one_query_parameter_completes_an_absent_paging():
    assert events_request(_App({'startDate': '2026-11-01'}, {'per_page': '5'}), Settings()).paging.page == 1
    assert events_request(_App({'startDate': '2026-11-01'}, {'page': '3'}), Settings()).paging.per_page == 1000


def test_the_page_size_cap_is_the_given_settings():
    settings = Settings(EXPORT_MAX_PER_PAGE=5)
    assert events_request(_App({'startDate': '2026-11-01'}, {'page': '3'}), settings).paging.per_page == 5
    for app in (
        _App({'startDate': '2026-11-01'}, {'per_page': '6'}),
        _App({'startDate': '2026-11-01', 'paging': {'page': 1, 'perPage': 6}}),
    ):
        with pytest.raises(ExportRequestError, match='^paging.perPage: must be between 1 and 5$'):
            events_request(app, settings)


def test_a_page_size_over_the_cap_is_named_with_the_other_problems():
    with pytest.raises(ExportRequestError) as raised:
        events_request(_App({'paging': {'page': 1, 'perPage': 1001}}), Settings())
    assert str(raised.value) == 'startDate: is required; paging.perPage: must be between 1 and 1000'


@pytest.mark.parametrize(
    ('body', 'query', 'message'),
    [
        ('', None, 'startDate: is required'),
        ('nope', None, 'Request body is not valid JSON: Expecting value: line 1 column 1 (char 0)'),
        ('"2026-01-01"', None, 'Request body must be a JSON object'),
        ({'startDate': '2026-11-01'}, {'per_page': 'ten'}, 'Query parameter per_page must be an integer'),
        ({'startDate': '2026-11-01'}, {'page': '0'}, 'paging.page: Input should be greater than or equal to 1'),
    ],
)
def test_problems_are_named(body, query, message):
    with pytest.raises(ExportRequestError) as raised:
        events_request(_App(body, query), Settings())
    assert str(raised.value) == message


def test_every_problem_is_named_at_once():
    with pytest.raises(ExportRequestError) as raised:
        events_request(_App({'endDate': '2026', 'filters': {'user': {'role': 'ADMIN'}}}), Settings())
    assert str(raised.value) == (
        'startDate: is required; '
        "endDate: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got '2026'; "
        'filters.user.role: Input should be a valid list'
    )


def test_counts_need_both_dates_and_a_period():
    with pytest.raises(
        ExportRequestError, match='^startDate: is required; endDate: is required; groupByPeriod: is required$'
    ):
        event_counts_request(_App({}))


def test_error_body_shape():
    assert error_body(400, 'x') == {'error': {'code': 400, 'message': 'x'}}


def test_an_unknown_route_is_a_404_in_the_family_shape_not_a_backend_failure(caplog):
    from serverless_analytics.http.export_api import export_app

    answer = export_app().resolve(http_api_event('/analytics/api/v1/nope', method='GET'), None)

    assert (answer['statusCode'], json.loads(answer['body'])) == (404, {'error': {'code': 404, 'message': 'Not found'}})
    assert 'failed' not in caplog.text
