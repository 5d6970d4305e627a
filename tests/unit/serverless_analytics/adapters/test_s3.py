"""The S3 adapter's deletes: chunked to S3's 1,000 keys per call, and a key S3 reports it could not delete is an
error, never a silent success; a get of what may be missing (botocore's Stubber answering as S3 would)."""

import boto3
import pytest
from botocore.stub import Stubber

from serverless_analytics.adapters import s3
from serverless_analytics.models.errors import ServiceUnavailableError


@pytest.fixture
def stubbed(monkeypatch):
    """The adapter's S3 client with botocore's Stubber answering."""
    client = boto3.client('s3', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    monkeypatch.setattr(s3, 'client', lambda service, **_: client)
    with Stubber(client) as stubber:
        yield stubber


def _expect_delete(stubber: Stubber, keys: list[str], errors: list[dict] | None = None) -> None:
    expected = {'Bucket': 'lake', 'Delete': {'Objects': [{'Key': key} for key in keys], 'Quiet': True}}
    stubber.add_response('delete_objects', {'Errors': errors} if errors else {}, expected)


def test_keys_are_deleted_in_chunks_s3_accepts(stubbed):
    keys = [f'events/project_id=1/dt=2026-11-22/part-{i:04d}.parquet' for i in range(1500)]
    _expect_delete(stubbed, keys[:1000])
    _expect_delete(stubbed, keys[1000:])

    s3.delete_objects('lake', keys)

    stubbed.assert_no_pending_responses()


def test_a_key_s3_could_not_delete_is_an_error_naming_it(stubbed):
    keys = ['events/a.parquet', 'events/b.parquet']
    _expect_delete(stubbed, keys, errors=[{'Key': 'events/b.parquet', 'Code': 'AccessDenied', 'Message': 'denied'}])

    with pytest.raises(ServiceUnavailableError, match=r'1 objects, e\.g\. events/b\.parquet: AccessDenied'):
        s3.delete_objects('lake', keys)


def test_a_missing_object_is_none_and_any_other_error_fails(stubbed):
    stubbed.add_client_error('get_object', 'NoSuchKey', http_status_code=404)
    stubbed.add_client_error('get_object', 'AccessDenied', http_status_code=403)

    assert s3.get_object_if_any('lake', 'usage/project_id=1/catalogue/catalogue.parquet') is None
    with pytest.raises(ServiceUnavailableError, match='AccessDenied'):
        s3.get_object_if_any('lake', 'usage/project_id=1/catalogue/catalogue.parquet')
