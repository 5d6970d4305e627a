"""The DynamoDB adapter's value encoding, checked against boto3's own TypeSerializer."""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from serverless_analytics.adapters.dynamodb import _serialize


@pytest.mark.parametrize(
    'value',
    ['', 'day#2026-11-22', 'ünïcode', 0, -7, 10**30, True, False, Decimal('1.5'), None, ['a', 1], {'a': {'b': 2}}],
)
def test_values_are_encoded_as_boto3_encodes_them(value):
    assert _serialize(value) == TypeSerializer().serialize(value)
