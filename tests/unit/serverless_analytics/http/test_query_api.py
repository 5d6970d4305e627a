"""The query family's one error mapping: each domain error answered as GitLab's proxy or Cube's server does."""

import pytest

from serverless_analytics.engines import QueryExecutionError
from serverless_analytics.http.query_api import QueryApi
from serverless_analytics.models.errors import ContinueWait, CubeLimitError, CubeQueryError, ServiceUnavailableError

GITLAB, CUBE = '/projects/1/product_analytics/request/load', '/cubejs-api/v1/load'


@pytest.mark.parametrize(
    ('error', 'path', 'status', 'body'),
    [
        (
            CubeQueryError("Can't parse date: 'blah'"),
            CUBE,
            400,
            {'type': 'UserError', 'error': "Can't parse date: 'blah'"},
        ),
        (CubeQueryError("Can't parse date: 'blah'"), GITLAB, 400, {'message': "Can't parse date: 'blah'"}),
        (CubeLimitError(), CUBE, 400, {'type': 'UserError', 'error': 'Error: The query limit has been exceeded.'}),
        (CubeLimitError(), GITLAB, 400, {'message': 'Error: The query limit has been exceeded.'}),
        (ContinueWait('key', ['e1']), CUBE, 200, {'error': 'Continue wait'}),
        (ContinueWait('key', ['e1']), GITLAB, 200, {'error': 'Continue wait'}),
        (QueryExecutionError('IO Error'), GITLAB, 502, {'message': 'Query backend unavailable, retry later'}),
        (ServiceUnavailableError('DynamoDB'), CUBE, 500, {'error': 'Error: Query backend unavailable, retry later'}),
        (KeyError('a bug of ours'), GITLAB, 500, {'message': '500 Internal Server Error'}),
        (KeyError('a bug of ours'), CUBE, 500, {'error': 'Error: Internal Server Error'}),
    ],
)
def test_every_error_is_answered_in_the_paths_family_shape(error, path, status, body):
    try:
        raise error
    except Exception as raised:  # noqa: BLE001 - the mapping is called inside the except, as the resolver does
        answer = QueryApi().error_response(raised, {'rawPath': path})

    assert (answer.status_code, answer.body) == (status, body)
