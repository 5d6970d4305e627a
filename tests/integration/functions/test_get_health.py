from functions.get_health.app import lambda_handler
from tests.conftest import load_event
from tests.integration.conftest import invoke


def test_liveness_needs_no_credential(aws, lambda_context):
    status, body = invoke(lambda_handler, load_event('get_health'), lambda_context)
    assert status == 200
    assert body['status'] == 'healthy'
    assert body['components'] == []


def test_deep_check_reports_every_component(aws, lambda_context):
    status, body = invoke(lambda_handler, load_event('get_health_deep'), lambda_context)

    assert status == 200
    assert body['status'] == 'healthy'
    names = [c['name'] for c in body['components']]
    assert names == [
        'stream',
        f'table:{aws.name("ApiKeysTable")}',
        f'table:{aws.name("EventsTable")}',
        f'table:{aws.name("CountersTable")}',
        'bucket',
    ]
    assert all(c['healthy'] for c in body['components'])


def test_deep_check_names_a_missing_component_and_answers_503(aws, lambda_context):
    aws.client('dynamodb').delete_table(TableName=aws.name('CountersTable'))

    status, body = invoke(lambda_handler, load_event('get_health_deep'), lambda_context)

    assert status == 503
    assert body['status'] == 'degraded'
    unhealthy = [c for c in body['components'] if not c['healthy']]
    assert [c['name'] for c in unhealthy] == [f'table:{aws.name("CountersTable")}']
    assert unhealthy[0]['detail'] == 'ResourceNotFoundException'  # the kind only: AWS' message names resources
