"""The export's requests: validated by their models through the routes, FT's query-parameter paging, and 400
messages naming each problem, all in the family's error body."""

import json
from typing import Any

import pytest

from functions.count_events.app import app as counts_app
from functions.export_events.app import app as events_app
from local.environment import stack_settings
from serverless_analytics.http.export_api import ExportApi, error_body, with_paging
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.export import EventsRequest, ExportRequestError
from tests.unit.serverless_analytics.conftest import http_api_event

EVENTS, COUNTS = '/analytics/api/v1/events', '/analytics/api/v1/traffic/event-counts'


@pytest.fixture(autouse=True)
def no_key_lookup(monkeypatch):
    monkeypatch.setattr(
        'serverless_analytics.http.export_api.authenticate',
        lambda settings, headers, scope: Principal(key_id='k', project_id='1', scopes=frozenset({Scope.READ})),
    )


def _refusal(path: str, body: str, query: str = '', lambda_context: Any = None) -> tuple[int, dict]:
    app = events_app if path == EVENTS else counts_app
    event = http_api_event(path, body=body) | {
        'rawQueryString': query,
        'queryStringParameters': dict(pair.split('=') for pair in query.split('&')) if query else None,
    }
    answer = ExportApi().handle(app, event, lambda_context, stack_settings())
    return answer['statusCode'], json.loads(answer['body'])


def _request(**body: Any) -> EventsRequest:
    return EventsRequest.model_validate({'startDate': '2026-11-01', **body}, context=stack_settings())


def test_query_parameters_win_over_the_body():
    paging = with_paging(_request(paging={'page': 1, 'perPage': 20}), 4, 5, stack_settings()).paging
    assert (paging.page, paging.per_page) == (4, 5)


def test_one_query_parameter_completes_an_absent_paging():
    assert with_paging(_request(), None, 5, stack_settings()).paging.page == 1
    assert with_paging(_request(), 3, None, stack_settings()).paging.per_page == 1000


def test_the_page_size_cap_is_the_given_settings():
    settings = stack_settings(EXPORT_MAX_PER_PAGE=5)
    assert with_paging(_request(), 3, None, settings).paging.per_page == 5
    with pytest.raises(ExportRequestError, match='^paging.perPage: must be between 1 and 5$'):
        with_paging(_request(), None, 6, settings)


@pytest.mark.parametrize(
    ('path', 'body', 'query', 'message'),
    [
        (EVENTS, '', '', 'body: is required'),
        (EVENTS, '{}', '', 'startDate: is required'),
        (EVENTS, 'nope', '', 'Request body is not valid JSON: Expecting value'),
        (EVENTS, '"2026-01-01"', '', 'Request body must be a JSON object'),
        (
            EVENTS,
            '{"startDate": "2026-11-01"}',
            'per_page=ten',
            'query.per_page: Input should be a valid integer, unable to parse string as an integer',
        ),
        (EVENTS, '{"startDate": "2026-11-01"}', 'page=0', 'paging.page: Input should be greater than or equal to 1'),
        (
            EVENTS,
            '{"paging": {"page": 1, "perPage": 1001}}',
            '',
            'startDate: is required; paging.perPage: must be between 1 and 1000',
        ),
        (COUNTS, '{}', '', 'startDate: is required; endDate: is required; groupByPeriod: is required'),
    ],
)
def test_problems_are_named_in_a_400(path, body, query, message, lambda_context):
    assert _refusal(path, body, query, lambda_context) == (400, error_body(400, message))


def test_every_problem_is_named_at_once(lambda_context):
    body = json.dumps({'endDate': '2026', 'filters': {'user': {'role': 'ADMIN'}}})
    assert _refusal(EVENTS, body, '', lambda_context)[1]['error']['message'] == (
        'startDate: is required; '
        "endDate: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got '2026'; "
        'filters.user.role: Input should be a valid list'
    )


@pytest.mark.parametrize(
    ('body', 'problem'),
    [
        (b'\xff\xfe{', 'Request body is not valid JSON: The body is not text in a JSON encoding'),
        (b'[' * 100_000, 'Request body is not valid JSON: The body cannot be parsed as JSON'),
    ],
)
def test_a_body_that_cannot_be_parsed_is_a_400(body, problem, lambda_context):
    import base64

    event = http_api_event(EVENTS, body=base64.b64encode(body).decode()) | {'isBase64Encoded': True}
    answer = ExportApi().handle(events_app, event, lambda_context, stack_settings())
    assert (answer['statusCode'], json.loads(answer['body'])) == (400, error_body(400, problem))


def test_error_body_shape():
    assert error_body(400, 'x') == {'error': {'code': 400, 'message': 'x'}}


def test_an_unknown_route_is_a_404_in_the_family_shape_not_a_backend_failure(caplog):
    answer = ExportApi().app().resolve(http_api_event('/analytics/api/v1/nope', method='GET'), None)

    assert (answer['statusCode'], json.loads(answer['body'])) == (404, {'error': {'code': 404, 'message': 'Not found'}})
    assert 'failed' not in caplog.text
