"""The DynamoDB adapter's pure parts: value encoding (checked against boto3's TypeSerializer) and transaction sizing."""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from serverless_analytics.adapters.dynamodb import Marker, _marker_chunks, _serialize


@pytest.mark.parametrize(
    'value',
    ['', 'day#2026-11-22', 'ünïcode', 0, -7, 10**30, True, False, Decimal('1.5'), None, ['a', 1], {'a': {'b': 2}}],
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
