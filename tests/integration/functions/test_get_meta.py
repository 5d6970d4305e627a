"""The meta endpoint: the data model's visible cubes, the same for every caller and path family."""

import json

from functions.get_meta.app import lambda_handler
from serverless_analytics.cube import meta
from tests.conftest import load_event
from tests.integration.conftest import invoke, with_headers


def test_both_families_get_the_models_document(aws, lambda_context):
    gitlab = invoke(lambda_handler, load_event('get_meta'), lambda_context)
    cube = invoke(lambda_handler, load_event('get_meta_cube'), lambda_context)

    assert gitlab == cube == (200, json.loads(json.dumps(meta())))
    assert 'TrackedEvents' in {c['name'] for c in gitlab[1]['cubes']}


def test_credentials_are_checked_per_family(aws, lambda_context):
    assert invoke(lambda_handler, with_headers('get_meta', **{'private-token': None}), lambda_context) == (
        401,
        {'message': '401 Unauthorized'},
    )
    assert invoke(lambda_handler, with_headers('get_meta_cube', authorization='wrong'), lambda_context) == (
        403,
        {'error': 'Invalid token'},
    )
