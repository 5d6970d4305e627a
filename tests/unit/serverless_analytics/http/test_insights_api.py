"""The insights family's HTTP shape: the session token where Coder's clients send it (in Coder's order), Coder's
401, 403, 400 and 500 bodies byte for byte, and answers that keep their Go shape through the resolver."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local.environment import stack_settings
from serverless_analytics.http.common import current_principal
from serverless_analytics.http.insights_api import InsightsApi, coder_body, query_values
from serverless_analytics.logic.coder_params import parse_daus, parse_template_insights
from serverless_analytics.models.api_key import Scope
from serverless_analytics.models.errors import InsightsParamsError, ServiceUnavailableError
from serverless_analytics.models.insights import DAUsResponse, TemplateInsightsReport, TemplateInsightsResponse
from tests.unit.serverless_analytics.conftest import http_api_event
from tests.unit.serverless_analytics.http.conftest import FAILING_KEY

READ_KEY, OTHER_PROJECT_KEY, INGEST_KEY = 'sa_read-only', 'sa_read-project-2', 'sa_ingest-only'
NOW = datetime(2023, 8, 10, 14, 25, tzinfo=UTC)
SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.'
DAUS = '/api/v2/insights/daus'
TEMPLATES = '/api/v2/insights/templates'


@pytest.fixture(autouse=True)
def _keys(key_table):
    key_table(READ_KEY, '1', Scope.READ)
    key_table(OTHER_PROJECT_KEY, '2', Scope.READ)
    key_table(INGEST_KEY, '1', Scope.INGEST)


def _app(api: InsightsApi) -> APIGatewayHttpResolver:
    """Routes as the insights handlers write them: the query as Coder reads it, parsed by Coder's rules."""
    app = api.app()

    @app.get(DAUS)
    def daus() -> DAUsResponse:
        params = parse_daus(query_values(app.current_event.raw_event))
        return DAUsResponse(entries=[], tz_hour_offset=int(current_principal(app).project_id) * params.tz_offset)

    @app.get(TEMPLATES)
    def templates() -> TemplateInsightsResponse:
        params = parse_template_insights(query_values(app.current_event.raw_event), NOW)
        times = {'start_time': params.start_time, 'end_time': params.end_time}
        report = TemplateInsightsReport(**times, active_users=0) if params.wants_report else None
        return TemplateInsightsResponse(report=report)

    @app.get('/api/v2/insights/user-activity')
    def broken() -> TemplateInsightsResponse:
        raise KeyError('secret internals at /var/task/x.py')

    @app.get('/api/v2/insights/user-latency')
    def backend_down() -> TemplateInsightsResponse:
        raise ServiceUnavailableError('Athena: arn:aws:athena:us-east-1:123456789012:workgroup/secret')

    return app


def _event(
    path: str = DAUS,
    query: str = '',
    headers: dict[str, str] | None = None,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    event = http_api_event(path, body='', headers=headers or {}, method='GET') | {'rawQueryString': query}
    return event | ({'cookies': cookies} if cookies else {})


def _handle(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    api = InsightsApi()
    return api.handle(_app(api), event, lambda_context, stack_settings())


def _answer(response: dict[str, Any]) -> tuple[int, Any]:
    return response['statusCode'], json.loads(response['body'])


@pytest.mark.parametrize(
    'sent',
    [
        {'headers': {'Coder-Session-Token': READ_KEY}},
        {'headers': {'coder-session-token': READ_KEY}},
        {'cookies': [f'coder_session_token={READ_KEY}']},
        {'headers': {'cookie': f'other=1; coder_session_token="{READ_KEY}"'}},
        {'query': f'coder_session_token={READ_KEY}'},
        {'headers': {'authorization': f'Bearer {READ_KEY}'}},
    ],
)
def test_the_session_token_is_read_where_coders_clients_send_it(sent, lambda_context):
    response = _handle(_event(query=sent.get('query', 'tz_offset=2'), **_but_query(sent)), lambda_context)

    assert _answer(response)[0] == 200


def _but_query(sent: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in sent.items() if key != 'query'}


@pytest.mark.parametrize(
    ('sent', 'project'),
    [
        (
            {
                'cookies': [f'coder_session_token={OTHER_PROJECT_KEY}'],
                'query': f'coder_session_token={READ_KEY}',
                'headers': {'coder-session-token': READ_KEY, 'authorization': f'Bearer {READ_KEY}'},
            },
            '2',
        ),
        (
            {
                'query': f'coder_session_token={OTHER_PROJECT_KEY}',
                'headers': {'coder-session-token': READ_KEY, 'authorization': f'Bearer {READ_KEY}'},
            },
            '2',
        ),
        ({'headers': {'coder-session-token': OTHER_PROJECT_KEY, 'authorization': f'Bearer {READ_KEY}'}}, '2'),
        ({'cookies': ['coder_session_token='], 'headers': {'authorization': f'Bearer {OTHER_PROJECT_KEY}'}}, '2'),
    ],
)
def test_the_token_is_taken_in_coders_order_cookie_query_header_then_bearer(sent, project):
    principal, _ = InsightsApi().guard(_event(**sent), stack_settings())

    assert principal is not None
    assert principal.project_id == project


def test_the_query_token_is_no_unknown_parameter_and_is_taken_out_of_the_routed_event(lambda_context):
    query = f'tz_offset=3&coder_session_token={READ_KEY}'
    event = _event(query=query) | {'queryStringParameters': {'tz_offset': '3', 'coder_session_token': READ_KEY}}

    _, routed = InsightsApi().guard(event, stack_settings())
    response = _handle(event, lambda_context)

    assert (routed['rawQueryString'], routed['queryStringParameters']) == ('tz_offset=3', {'tz_offset': '3'})
    assert _answer(response) == (200, {'entries': [], 'tz_hour_offset': 3})
    assert query_values(event) == {'tz_offset': ['3']}


@pytest.mark.parametrize(
    ('sent', 'detail'),
    [
        ({}, 'Cookie \\"coder_session_token\\" or query parameter must be provided.'),
        (
            {
                'cookies': ['coder_session_token='],
                'query': 'coder_session_token=',
                'headers': {'authorization': 'Bearer '},
            },
            'Cookie \\"coder_session_token\\" or query parameter must be provided.',
        ),
        ({'headers': {'coder-session-token': 'sa_unknown'}}, 'API key is invalid.'),
        ({'headers': {'authorization': 'Bearer sa_unknown'}}, 'API key is invalid.'),
        (
            {'cookies': ['coder_session_token=sa_unknown'], 'headers': {'coder-session-token': READ_KEY}},
            'API key is invalid.',
        ),
    ],
)
def test_no_or_an_unknown_token_is_coders_signed_out_answer(sent, detail, lambda_context):
    response = _handle(_event(**sent), lambda_context)

    assert response['statusCode'] == 401
    assert response['body'] == f'{{"message":"{SIGNED_OUT}","detail":"{detail}"}}'


def test_a_key_without_read_is_forbidden(lambda_context):
    response = _handle(_event(headers={'coder-session-token': INGEST_KEY}), lambda_context)

    assert (response['statusCode'], response['body']) == (403, '{"message":"Forbidden."}')


def test_a_failed_key_check_is_the_familys_500_logged_without_the_credential(lambda_context, caplog):
    response = _handle(_event(headers={'coder-session-token': FAILING_KEY}), lambda_context)

    assert (response['statusCode'], response['body']) == (
        500,
        '{"message":"Internal error fetching insights.",'
        '"detail":"The insights backend failed or took too long; retry later."}',
    )
    assert 'ProvisionedThroughputExceededException' in caplog.text
    assert FAILING_KEY not in caplog.text


def test_parameter_refusals_are_coders_400_bodies(lambda_context):
    response = _handle(_event(query='tz_offset=5.5&foo=1', headers={'coder-session-token': READ_KEY}), lambda_context)

    assert _answer(response) == (
        400,
        {
            'message': 'Query parameters have invalid values.',
            'validations': [
                {
                    'field': 'tz_offset',
                    'detail': 'Query param "tz_offset" must be a valid integer: strconv.Atoi: parsing "5.5": '
                    'invalid syntax',
                },
                {'field': 'foo', 'detail': '"foo" is not a valid query param'},
            ],
        },
    )


def test_a_refusal_with_a_detail_has_no_validations(lambda_context):
    query = 'start_time=2023-08-01T00:00:00Z&end_time=2023-08-09T00:00:00Z&interval=week'
    response = _handle(_event(TEMPLATES, query, {'coder-session-token': READ_KEY}), lambda_context)

    assert _answer(response) == (
        400,
        {
            'message': 'Query parameter has invalid value.',
            'detail': 'Last report interval should have at least 6 days.',
        },
    )


@pytest.mark.parametrize(
    ('sent', 'echoed'),
    [
        ('2023-08-01T00:00:00%2B00:00', '2023-08-01T00:00:00Z'),  # what Coder's dashboard sends, as Go echoes it
        ('2023-08-01T00:00:00Z', '2023-08-01T00:00:00Z'),
        ('2023-08-01T00:00:00%2B02:00', '2023-08-01T00:00:00+02:00'),
        ('2023-08-01T00:00:00-05:30', '2023-08-01T00:00:00-05:30'),
    ],
)
def test_times_are_echoed_in_the_requests_offset_through_the_resolver(sent, echoed, lambda_context):
    query = f'start_time={sent}&end_time={sent}'
    response = _handle(_event(TEMPLATES, query, {'coder-session-token': READ_KEY}), lambda_context)

    status, body = _answer(response)
    assert status == 200
    assert list(body) == ['report']
    assert list(body['report']) == [
        'start_time',
        'end_time',
        'template_ids',
        'active_users',
        'apps_usage',
        'parameters_usage',
    ]
    assert (body['report']['start_time'], body['report']['end_time']) == (echoed, echoed)
    assert (body['report']['template_ids'], body['report']['apps_usage']) == ([], [])


def test_an_answer_without_its_sections_is_an_empty_object_through_the_resolver(lambda_context):
    query = 'start_time=2023-08-01T00:00:00Z&end_time=2023-08-08T00:00:00Z&sections=interval_reports'
    response = _handle(_event(TEMPLATES, query, {'coder-session-token': READ_KEY}), lambda_context)

    assert _answer(response) == (200, {})


def test_an_unexpected_error_is_a_500_that_leaks_nothing(lambda_context, caplog):
    event = _event('/api/v2/insights/user-activity', headers={'coder-session-token': READ_KEY})

    response = _handle(event, lambda_context)

    assert _answer(response) == (
        500,
        {'message': 'Internal error fetching insights.', 'detail': 'An unexpected error occurred.'},
    )
    assert 'secret internals' not in response['body']
    assert 'secret internals' in caplog.text


def test_a_backend_failure_is_the_familys_500_without_its_internals(lambda_context, caplog):
    event = _event('/api/v2/insights/user-latency', headers={'coder-session-token': READ_KEY})

    response = _handle(event, lambda_context)

    assert _answer(response) == (
        500,
        {
            'message': 'Internal error fetching insights.',
            'detail': 'The insights backend failed or took too long; retry later.',
        },
    )
    assert 'arn:aws' not in response['body']
    assert 'failed' in caplog.text


def test_an_unknown_route_is_coders_route_not_found(lambda_context):
    response = _handle(_event('/api/v2/insights/nope', headers={'coder-session-token': READ_KEY}), lambda_context)

    assert _answer(response) == (404, {'message': 'Route not found.'})


def test_a_request_byte_that_is_not_utf8_is_written_as_go_writes_it():
    error = InsightsParamsError('m', validations=[(b'k\xff'.decode('utf-8', 'surrogateescape'), '"k\\xff" ...')])

    assert coder_body(error.message, error.detail, error.validations) == {
        'message': 'm',
        'validations': [{'field': 'k\ufffd', 'detail': '"k\\xff" ...'}],
    }


def test_the_openapi_errors_describe_coders_body():
    errors = InsightsApi().openapi_errors()

    assert sorted(errors) == ['400', '401', '403', '500']
    schema = errors['400']['content']['application/json']['schema']
    assert schema['required'] == ['message']
    assert set(schema['properties']) == {'message', 'detail', 'validations'}
