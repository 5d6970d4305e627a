"""Answers given before routing: every family refuses a missing, wrong or under-scoped key and a key check that
failed, each in its own body shape, byte for byte; a failed check is logged, never with the credential."""

import json
from typing import Any

import pytest

from local.environment import stack_settings
from serverless_analytics.config import Settings
from serverless_analytics.http.common import ApiFamily
from serverless_analytics.http.export_api import UNAVAILABLE, ExportApi, error_body
from serverless_analytics.http.ingestion_api import IngestionApi
from serverless_analytics.http.query_api import QueryApi
from serverless_analytics.models.api_key import Scope
from tests.unit.serverless_analytics.conftest import http_api_event
from tests.unit.serverless_analytics.http.conftest import FAILING_KEY

INGEST_KEY, READ_KEY = 'sa_ingest-only', 'sa_read-only'
BEARER = {'WWW-Authenticate': 'Bearer'}


@pytest.fixture(autouse=True)
def _keys(key_table):
    key_table(INGEST_KEY, '1', Scope.INGEST)
    key_table(READ_KEY, '1', Scope.READ)


def _event(path: str, key: str | None) -> dict[str, Any]:
    headers = {'content-type': 'application/json'} | ({'authorization': f'Bearer {key}'} if key else {})
    return http_api_event(path, headers=headers) | {'pathParameters': {'project_id': '1'}}


def _handle(api: ApiFamily, event: dict[str, Any], lambda_context: Any, settings: Settings) -> dict[str, Any]:
    return api.handle(api.app(), event, lambda_context, settings)


def _answer(status: int, body: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        'statusCode': status,
        'headers': {'Content-Type': 'application/json', **(headers or {})},
        'body': body,
        'isBase64Encoded': False,
    }


def _ingestion(key: str | None, lambda_context: Any) -> dict[str, Any]:
    return _handle(IngestionApi(Scope.INGEST), _event('/api/v1/analytics', key), lambda_context, stack_settings())


def _export(key: str | None, lambda_context: Any) -> dict[str, Any]:
    return _handle(ExportApi(), _event('/analytics/api/v1/events', key), lambda_context, stack_settings())


@pytest.mark.parametrize(
    ('key', 'expected'),
    [
        (None, _answer(401, '{"detail":"Not authenticated"}', BEARER)),
        ('sa_unknown', _answer(401, '{"detail":"Invalid API key"}', BEARER)),
        (READ_KEY, _answer(403, '{"detail":"API key lacks the \'ingest\' scope"}')),
        (FAILING_KEY, _answer(503, '{"detail":"Service temporarily unavailable, retry later"}')),
    ],
)
def test_ingestion_refusals_are_fastapi_details(key, expected, lambda_context):
    assert _ingestion(key, lambda_context) == expected


@pytest.mark.parametrize(
    ('key', 'expected'),
    [
        (None, _answer(401, '{"error":{"code":401,"message":"Not authenticated"}}', BEARER)),
        ('sa_unknown', _answer(401, '{"error":{"code":401,"message":"Invalid API key"}}', BEARER)),
        (INGEST_KEY, _answer(403, '{"error":{"code":403,"message":"API key lacks the \'read\' scope"}}')),
        (
            FAILING_KEY,
            _answer(503, json.dumps(error_body(503, UNAVAILABLE), separators=(',', ':'))),
        ),
    ],
)
def test_export_refusals_are_the_export_error_body(key, expected, lambda_context):
    assert _export(key, lambda_context) == expected


def test_a_body_over_the_cap_is_413_before_the_key_is_checked(lambda_context):
    event = _event('/api/v1/analytics', None) | {'body': 'x' * 2048}

    response = _handle(IngestionApi(Scope.INGEST), event, lambda_context, stack_settings(MAX_BODY_BYTES=1024))

    assert response == _answer(413, '{"detail":"Request body is larger than 1024 bytes"}')


@pytest.mark.parametrize(
    ('path', 'expected'),
    [
        (
            '/projects/1/product_analytics/request/load',
            _answer(502, '{"message":"Query backend unavailable, retry later"}'),
        ),
        ('/cubejs-api/v1/load', _answer(500, '{"error":"Error: Query backend unavailable, retry later"}')),
    ],
)
def test_a_failed_key_check_on_the_query_api_is_its_familys_unavailable_answer_and_logged(
    path, expected, lambda_context, caplog
):
    response = _handle(QueryApi(), _event(path, FAILING_KEY), lambda_context, stack_settings())

    assert response == expected
    assert 'failed' in caplog.text
    assert FAILING_KEY not in caplog.text


@pytest.mark.parametrize('answer', [_ingestion, _export])
def test_a_failed_key_check_is_logged_with_its_cause_but_not_the_credential(answer, lambda_context, caplog):
    answer(FAILING_KEY, lambda_context)

    assert 'failed' in caplog.text
    assert 'ProvisionedThroughputExceededException' in caplog.text
    assert FAILING_KEY not in caplog.text


@pytest.mark.parametrize('answer', [_ingestion, _export])
def test_a_refused_key_is_not_logged_as_a_failure(answer, lambda_context, caplog):
    answer('sa_unknown', lambda_context)

    assert 'failed' not in caplog.text


@pytest.mark.parametrize(
    ('path', 'body'),
    [
        ('/api/v4/projects/1/product_analytics/nope', {'message': 'Not found'}),
        ('/cubejs-api/v1/nope', {'error': 'Not found'}),
    ],
)
def test_an_unknown_query_route_is_a_404_in_the_family_shape_not_a_backend_failure(path, body, caplog):
    api = QueryApi()
    answer = api.app().resolve(http_api_event(path, method='GET'), None)

    assert (answer['statusCode'], json.loads(answer['body'])) == (404, body)
    assert 'failed' not in caplog.text
