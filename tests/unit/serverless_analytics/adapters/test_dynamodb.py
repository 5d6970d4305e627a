"""The DynamoDB adapter's own logic: value encoding (checked against boto3's TypeSerializer), transaction sizing,
and what it retries, refuses or answers as unavailable (botocore's Stubber answering as DynamoDB would)."""

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.stub import Stubber

from serverless_analytics.adapters import dynamodb
from serverless_analytics.adapters.dynamodb import Marker, _marker_chunks, _serialize
from serverless_analytics.models.errors import ServiceUnavailableError


@pytest.mark.parametrize(
    'value',
    # the types encoded by hand, and bools, which are ints to isinstance but must stay BOOL
    ['', 'day#2026-11-22', 'ünïcode', 0, -7, 10**30, True, False],
)
def test_values_are_encoded_as_boto3_encodes_them(value):
    assert _serialize(value) == TypeSerializer().serialize(value)


def test_markers_are_grouped_so_their_operations_and_the_counter_fit_a_transaction():
    checked = [Marker(f'seq#s#{i}', not_written_by=(f'p#{i}', f's#{i}')) for i in range(120)]
    plain = [Marker(f'seq#s#{i}') for i in range(150)]

    assert [len(chunk) for chunk in _marker_chunks(checked)] == [49, 49, 22]
    assert [len(chunk) for chunk in _marker_chunks(plain)] == [99, 51]
    assert [m for chunk in _marker_chunks(checked + plain) for m in chunk] == checked + plain


def test_one_transaction_never_checks_the_same_event_twice():
    markers = [Marker(f'seq#s#{i}', not_written_by=(f'p#{i % 3}', f's#{i}')) for i in range(7)]

    assert [[m.pk for m in chunk] for chunk in _marker_chunks(markers)] == [
        ['seq#s#0', 'seq#s#1', 'seq#s#2'],
        ['seq#s#3', 'seq#s#4', 'seq#s#5'],
        ['seq#s#6'],
    ]


def _cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        'transact_write_items',
        service_error_code='TransactionCanceledException',
        modeled_fields={'CancellationReasons': [{'Code': code} for code in codes]},
    )


@pytest.fixture
def pauses(monkeypatch) -> list[int]:
    """The retries the adapter paused before (recorded instead of slept)."""
    recorded: list[int] = []
    monkeypatch.setattr(dynamodb, 'pause_before_retry', lambda retry, base_seconds: recorded.append(retry))
    return recorded


@pytest.fixture
def stubbed(monkeypatch, pauses):
    """The adapter's DynamoDB client with botocore's Stubber answering."""
    client = boto3.client('dynamodb', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    monkeypatch.setattr(dynamodb, 'client', lambda service, **_: client)
    with Stubber(client) as stubber:
        yield stubber


OPERATIONS = [{'ConditionCheck': {'TableName': 't', 'Key': {'pk': {'S': 'a'}}, 'ConditionExpression': 'x'}}]


def test_a_transaction_cancelled_by_a_conflict_is_retried_until_it_goes_through(stubbed, pauses):
    _cancelled(stubbed, 'TransactionConflict')
    _cancelled(stubbed, 'ThrottlingError')
    stubbed.add_response('transact_write_items', {})

    assert dynamodb._transact(OPERATIONS) == []
    stubbed.assert_no_pending_responses()
    assert pauses == [1, 2]


def test_a_transaction_that_keeps_conflicting_fails_as_unavailable_after_its_attempts(stubbed, pauses):
    for _ in range(dynamodb.TRANSACTION_ATTEMPTS):
        _cancelled(stubbed, 'TransactionConflict')

    with pytest.raises(ServiceUnavailableError):
        dynamodb._transact(OPERATIONS)
    stubbed.assert_no_pending_responses()
    assert pauses == list(range(1, dynamodb.TRANSACTION_ATTEMPTS))


def test_a_failed_condition_is_reported_at_once_not_retried(stubbed, pauses):
    _cancelled(stubbed, 'None', 'ConditionalCheckFailed', 'TransactionConflict')

    assert dynamodb._transact(OPERATIONS * 3) == [1]
    stubbed.assert_no_pending_responses()
    assert pauses == []


def test_another_transaction_error_is_unavailable_at_once(stubbed, pauses):
    stubbed.add_client_error('transact_write_items', service_error_code='ValidationException')

    with pytest.raises(ServiceUnavailableError):
        dynamodb._transact(OPERATIONS)
    stubbed.assert_no_pending_responses()
    assert pauses == []


def test_updating_a_missing_item_is_false_and_another_error_unavailable(stubbed):
    stubbed.add_client_error('update_item', service_error_code='ConditionalCheckFailedException')
    stubbed.add_client_error('update_item', service_error_code='ProvisionedThroughputExceededException')

    assert dynamodb.update_item('t', {'key_id': 'k'}, {'revoked': True}) is False
    with pytest.raises(ServiceUnavailableError):
        dynamodb.update_item('t', {'key_id': 'k'}, {'revoked': True})
    stubbed.assert_no_pending_responses()
