"""The Athena adapter: the requests it sends, results read page by page, and service failures answered as
unavailable (botocore's Stubber answering as Athena would)."""

import boto3
import pytest
from botocore.stub import Stubber

from serverless_analytics.adapters import athena
from serverless_analytics.models.errors import ServiceUnavailableError


@pytest.fixture
def stubbed(monkeypatch):
    """The adapter's Athena client with botocore's Stubber answering."""
    client = boto3.client('athena', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    monkeypatch.setattr(athena, 'client', lambda service, **_: client)
    with Stubber(client) as stubber:
        yield stubber


def test_a_query_starts_in_the_workgroup_with_result_reuse(stubbed):
    stubbed.add_response(
        'start_query_execution',
        {'QueryExecutionId': 'q-1'},
        {
            'QueryString': 'SELECT 1',
            'WorkGroup': 'primary',
            'QueryExecutionContext': {'Database': 'analytics', 'Catalog': 'AwsDataCatalog'},
            'ResultConfiguration': {'OutputLocation': 's3://results/'},
            'ResultReuseConfiguration': {'ResultReuseByAgeConfiguration': {'Enabled': True, 'MaxAgeInMinutes': 30}},
        },
    )

    execution_id = athena.start_query(
        'SELECT 1',
        workgroup='primary',
        database='analytics',
        catalog='AwsDataCatalog',
        output_location='s3://results/',
        reuse_minutes=30,
    )

    assert execution_id == 'q-1'


def test_without_reuse_or_location_the_request_leaves_them_to_the_workgroup(stubbed):
    expected = {
        'QueryString': 'SELECT 1',
        'WorkGroup': 'primary',
        'QueryExecutionContext': {'Database': 'analytics', 'Catalog': 'AwsDataCatalog'},
    }
    stubbed.add_response('start_query_execution', {'QueryExecutionId': 'q-2'}, expected)

    assert athena.start_query('SELECT 1', workgroup='primary', database='analytics', catalog='AwsDataCatalog') == 'q-2'


def test_the_status_carries_the_reason_of_a_failure(stubbed):
    status = {'State': 'FAILED', 'StateChangeReason': 'SYNTAX_ERROR: line 1:8'}
    stubbed.add_response('get_query_execution', {'QueryExecution': {'Status': status}}, {'QueryExecutionId': 'q-1'})

    assert athena.execution_status('q-1') == athena.ExecutionStatus('FAILED', 'SYNTAX_ERROR: line 1:8')


def test_results_are_read_page_after_page(stubbed):
    first = {'Rows': [{'Data': [{'VarCharValue': 'n'}]}], 'ResultSetMetadata': {'ColumnInfo': []}}
    second = {'Rows': [{'Data': [{'VarCharValue': '1'}]}]}
    page_size = athena.RESULTS_PAGE_SIZE
    stubbed.add_response(
        'get_query_results',
        {'ResultSet': first, 'NextToken': 't2'},
        {'QueryExecutionId': 'q-1', 'MaxResults': page_size},
    )
    stubbed.add_response(
        'get_query_results',
        {'ResultSet': second},
        {'QueryExecutionId': 'q-1', 'MaxResults': page_size, 'NextToken': 't2'},
    )

    assert athena.result_sets('q-1') == [first, second]
    stubbed.assert_no_pending_responses()


@pytest.mark.parametrize(
    ('operation', 'call'),
    [
        ('start_query_execution', lambda: athena.start_query('SELECT 1', workgroup='w', database='d', catalog='c')),
        ('get_query_execution', lambda: athena.execution_status('q-1')),
        ('get_query_results', lambda: athena.result_sets('q-1')),
    ],
)
def test_a_failing_service_answers_unavailable(stubbed, operation, call):
    stubbed.add_client_error(operation, service_error_code='TooManyRequestsException', service_message='Rate exceeded')

    with pytest.raises(ServiceUnavailableError, match='TooManyRequestsException'):
        call()
