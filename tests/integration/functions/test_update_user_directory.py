"""The user directory's consumer of the events stream, against moto: its trigger events (the sample, a poison
record, copies of one event, an outage) and the items it leaves in the users table. The expected entries are read
off the sample's events by hand."""

import base64
import copy
import json

from functions.update_user_directory.app import lambda_handler
from tests import aws_reads
from tests.conftest import load_event


def _items(aws) -> dict[str, dict]:
    return aws_reads.user_items(aws.client('dynamodb'), aws.name('UsersTable'), '1')


def _sent(record: dict) -> dict:
    return json.loads(base64.b64decode(record['kinesis']['data']))


def _with_data(record: dict, sequence: str, **changes: object) -> dict:
    """A copy of a trigger record with another sequence number and these fields of its event changed."""
    copied = copy.deepcopy(record)
    copied['kinesis']['sequenceNumber'] = sequence
    copied['eventID'] = f'shardId-000000000000:{sequence}'
    copied['kinesis']['data'] = base64.b64encode(json.dumps({**_sent(record), **changes}).encode()).decode()
    return copied


def test_the_sample_batch_gives_each_user_their_entry_and_history(aws, lambda_context):
    response = lambda_handler(load_event('update_user_directory'), lambda_context)

    assert response == {'batchItemFailures': []}
    items = _items(aws)
    bob, ada = items['user/user_12'], items['user/user_7']
    assert {k: bob[k] for k in ('username', 'avatar_url', 'first_seen', 'last_seen', 'status')} == {
        'username': 'bob',
        'avatar_url': 'https://avatars.example.com/u/12.png',
        'first_seen': '2026-11-22T06:30:00.000Z',
        'last_seen': '2026-11-22T06:00:00.000Z',
        'status': 'active',
    }
    assert (ada['username'], ada['first_seen'], ada['status']) == ('ada', '2026-11-22T06:38:00.000Z', 'suspended')
    assert sorted((sk, item['new_status']) for sk, item in items.items() if sk.startswith('status/')) == [
        ('status/user_12/2026-11-22T06:30:00.000Z/2-5a0c6f2e-1d3b-4e8a-9c7f-2b4d6e8f0a11', 'active'),
        ('status/user_7/2026-11-22T06:38:00.000Z/0-0d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5', 'active'),
        ('status/user_7/2026-11-22T06:39:10.000Z/2-3b8d1f0a-6e2c-4a9b-b7d5-0c1e2f3a4b5c', 'suspended'),
    ]
    assert len(items) == 5  # the anonymous page view has no user


def test_a_redelivered_sample_changes_nothing(aws, lambda_context):
    event = load_event('update_user_directory')
    lambda_handler(event, lambda_context)
    before = _items(aws)

    assert lambda_handler(event, lambda_context) == {'batchItemFailures': []}

    assert _items(aws) == before  # same versions: not even written again


def test_of_one_event_ids_copies_in_a_batch_only_the_first_is_merged(aws, lambda_context):
    # A client's retry of ada's page view, given a later time by the ingest API's skew correction
    event = load_event('update_user_directory')
    page_view = event['Records'][1]
    retry = _with_data(
        page_view, '49657000000000000000000000000000000000000000000000000099', timestamp='2026-11-22T09:38:00Z'
    )

    assert lambda_handler({'Records': [*event['Records'], retry]}, lambda_context) == {'batchItemFailures': []}

    assert _items(aws)['user/user_7']['last_seen'] == '2026-11-22T06:00:00.000Z'


def test_a_record_the_writer_quarantines_never_reaches_the_directory(aws, lambda_context):
    # The poison sample's broken record, and one of a field the event schema does not know
    event = load_event('update_user_directory')
    unknown = _with_data(event['Records'][0], '49657000000000000000000000000000000000000000000000000098', shoe_size=44)
    unknown_user = _sent(unknown)['user_id']
    poison = load_event('write_events_poison')['Records'][1:]  # its first record is a good one
    others = [record for record in event['Records'] if _sent(record).get('user_id') != unknown_user]

    response = lambda_handler({'Records': [*poison, unknown, *others]}, lambda_context)

    assert response == {'batchItemFailures': []}  # the writer keeps them in quarantine; nothing to redeliver here
    assert f'user/{unknown_user}' not in _items(aws)
    assert 'user/user_7' in _items(aws)


def test_a_users_table_outage_reports_every_record_for_redelivery(aws, lambda_context):
    event = load_event('update_user_directory')
    aws.client('dynamodb').delete_table(TableName=aws.name('UsersTable'))

    response = lambda_handler(event, lambda_context)

    assert sorted(f['itemIdentifier'] for f in response['batchItemFailures']) == sorted(
        r['kinesis']['sequenceNumber'] for r in event['Records']
    )
