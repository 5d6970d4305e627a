"""The HTTP surface of the local stack: credentials, health, unknown routes, and API Gateway's event shape."""

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.support import BATCH, HEALTH, STATS, TRACK, bearer, new_project

pytestmark = pytest.mark.e2e

EVENT = {'event_name': 'page_view', 'category': 'page_view'}


def test_missing_key_is_401(stack: LocalStack) -> None:
    response = requests.post(stack.url + TRACK, json=EVENT)

    assert response.status_code == 401
    assert response.json() == {'detail': 'Not authenticated'}
    assert response.headers['WWW-Authenticate'] == 'Bearer'


@pytest.mark.parametrize(
    'headers',
    [bearer('sa_not-a-real-key'), {'PRIVATE-TOKEN': 'sa_not-a-real-key'}, {'Coder-Session-Token': 'wrong'}],
    ids=['bearer', 'private-token', 'coder-session-token'],
)
def test_invalid_key_is_401(stack: LocalStack, headers: dict[str, str]) -> None:
    response = requests.post(stack.url + BATCH, json={'events': [EVENT]}, headers=headers)

    assert response.status_code == 401
    assert response.json() == {'detail': 'Invalid API key'}


def test_each_route_needs_its_scope(stack: LocalStack) -> None:
    _, read_only = new_project(['read'])
    _, ingest_only = new_project(['ingest'])

    track = requests.post(stack.url + TRACK, json=EVENT, headers=bearer(read_only), timeout=30)
    stats = requests.get(stack.url + STATS, headers=bearer(ingest_only), timeout=30)

    assert (track.status_code, stats.status_code) == (403, 403)
    assert track.json() == {'detail': "API key lacks the 'ingest' scope"}
    assert stats.json() == {'detail': "API key lacks the 'read' scope"}
    assert requests.get(stack.url + STATS, headers=bearer(read_only), timeout=30).status_code == 200


def test_revoked_key_is_401(stack: LocalStack) -> None:
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import key_id_of, revoke_key

    _, key = new_project()
    assert requests.get(stack.url + STATS, headers=bearer(key)).status_code == 200
    assert revoke_key(get_settings(), key_id_of(key))

    assert requests.get(stack.url + STATS, headers=bearer(key)).status_code == 401


def test_other_credential_headers_are_accepted(stack: LocalStack) -> None:
    for header in ('PRIVATE-TOKEN', 'Coder-Session-Token'):
        response = requests.get(stack.url + STATS, headers={header: stack.api_key})
        assert response.status_code == 200, (header, response.text)


def test_shallow_health_needs_no_key(stack: LocalStack) -> None:
    response = requests.get(stack.url + HEALTH)

    assert response.status_code == 200, response.text
    assert response.json()['status'] == 'healthy'
    assert not response.json().get('components')  # shallow: no dependency is called


def test_deep_health_checks_stream_tables_and_bucket(stack: LocalStack) -> None:
    response = requests.get(stack.url + HEALTH, params={'deep': 'true'})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body['status'] == 'healthy'
    names = {component['name']: component['healthy'] for component in body['components']}
    expected_tables = {f'table:{stack.name_of(t)}' for t in ('ApiKeysTable', 'EventsTable', 'CountersTable')}
    assert names == dict.fromkeys({'stream', 'bucket', *expected_tables}, True)


@pytest.mark.parametrize(
    ('method', 'path'),
    [
        ('GET', '/nope'),
        ('GET', '/api/v1/analytics'),
        ('DELETE', '/api/v1/analytics/stats'),
        ('GET', '/api/v1/analytics/'),
    ],
)
def test_unknown_route_is_api_gateway_404(stack: LocalStack, method: str, path: str) -> None:
    response = requests.request(method, stack.url + path, headers=bearer(stack.api_key))

    assert response.status_code == 404
    assert response.json() == {'message': 'Not Found'}


def test_validation_error_is_fastapi_422(stack: LocalStack) -> None:
    response = requests.post(stack.url + TRACK, json={'event_name': ''}, headers=bearer(stack.api_key))

    assert response.status_code == 422
    assert response.json() == {
        'detail': [
            {
                'type': 'string_too_short',
                'loc': ['body', 'event_name'],
                'msg': 'String should have at least 1 character',
                'input': '',
                'ctx': {'min_length': 1},
            }
        ]
    }


def test_stats_report_the_template_mapping_settings(stack: LocalStack) -> None:
    source = stack.template.stream_writer.kinesis

    buffer = requests.get(stack.url + STATS, headers=bearer(stack.api_key)).json()['buffer_status']

    assert buffer['max_buffer_size'] == source.batch_size == 2000
    assert buffer['flush_interval_seconds'] == source.batching_window_seconds == 1  # overridden by the tests
