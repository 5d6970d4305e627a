"""The user directory and status history, against moto: events sent through the real ingestion handlers and
merged by the real handler of the directory's consumer of the stream; the items of the users table."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.update_user_directory.app import lambda_handler as directory_handler
from serverless_analytics.config import get_settings
from serverless_analytics.logic.api_keys import create_key
from serverless_analytics.logic.user_directory import UserEvent, merge, user_write
from serverless_analytics.models.api_key import Scope
from tests import aws_reads
from tests.integration.conftest import directory_trigger, ingest, stream_records

NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
DAY = datetime(2026, 11, 22, tzinfo=UTC)


def _event(name: str, hour: float, user: str | None, status: str | None = None, **user_fields: str) -> dict:
    return {
        'event_name': name,
        'event_id': str(uuid.uuid4()),
        'timestamp': (DAY + timedelta(hours=hour)).isoformat(),
        **({'user': {'id': user, **user_fields}} if user else {}),
        'properties': {'status': status} if status else {},
    }


def _at(hour: float) -> str:
    return f'{DAY + timedelta(hours=hour):%Y-%m-%dT%H:%M:%S}.000Z'


def _items(aws, project_id: str = '1') -> dict[str, dict[str, Any]]:
    """The project's items of the users table by sort key, read back from the table."""
    return aws_reads.user_items(aws.client('dynamodb'), aws.name('UsersTable'), project_id)


def _history(items: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    return [(sk, item['new_status']) for sk, item in sorted(items.items()) if sk.startswith('status/')]


@pytest.fixture
def now(pinned_now):
    return pinned_now(NOW)


def test_a_batch_writes_each_users_entry_history_and_deletion(aws, lambda_context, now):
    created = _event('user.created', 8, 'u1', 'active', username='ada')
    renamed = _event('page_view', 9, 'u1', username='ada.l', avatar_url='https://a/2.png')
    older = _event('page_view', 8.5, 'u1', username='ada', avatar_url='https://a/1.png')  # after, but older
    seen = _event('workspace.agent_stats', 10, 'u2', username='bob')
    suspended = _event('user.status_changed', 10.5, 'u2', 'suspended')
    deleted = _event('user.deleted', 11, 'u2')

    ingest(aws, [created, renamed, older, seen, suspended, deleted, _event('page_view', 9, None)], lambda_context)

    items = _items(aws)
    u1, u2 = items['user/u1'], items['user/u2']
    assert {k: u1[k] for k in ('username', 'avatar_url', 'first_seen', 'last_seen', 'status')} == {
        'username': 'ada.l',
        'avatar_url': 'https://a/2.png',
        'first_seen': _at(8),
        'last_seen': _at(9),
        'status': 'active',
    }
    assert (u2['status'], u2['deleted_at'], u2['last_seen']) == ('suspended', _at(11), _at(11))
    assert _history(items) == [
        (f'status/u1/{_at(8)}/2-{created["event_id"]}', 'active'),
        (f'status/u2/{_at(10)}/0-{seen["event_id"]}', 'active'),
        (f'status/u2/{_at(10.5)}/2-{suspended["event_id"]}', 'suspended'),
    ]
    assert items['deleted/u2'] == {
        'pk': '1',
        'sk': 'deleted/u2',
        'user_id': 'u2',
        'deleted_at': _at(11),
        'event_id': deleted['event_id'],
    }
    assert len(items) == 6  # two entries, three changes, a deletion: the event without a user has none


def test_a_redelivered_batch_adds_nothing(aws, lambda_context, now):
    ingest(
        aws,
        [
            _event('page_view', 8, 'u1', username='ada'),
            _event('user.status_changed', 9, 'u1', 'dormant'),
            _event('page_view', 10, 'u1'),
        ],
        lambda_context,
    )
    before = _items(aws)
    records = stream_records(aws)

    # the same records again, as the event source mapping redelivers them after a timeout, and from the second
    # on, as it redelivers them after a partial failure (a batch of another shape)
    assert directory_handler(directory_trigger(records), lambda_context) == {'batchItemFailures': []}
    assert directory_handler(directory_trigger(records[1:]), lambda_context) == {'batchItemFailures': []}

    assert _items(aws) == before  # no new history item, and the entry not even written again (same version)
    assert [status for _, status in _history(before)] == ['active', 'dormant', 'active']


def test_batches_out_of_order_give_the_directory_and_history_of_batches_in_order(aws, lambda_context, now):
    life = [
        _event('page_view', 1, 'u1', username='ada', avatar_url='https://a/1.png'),
        _event('user.created', 1.5, 'u1', 'active'),
        _event('user.status_changed', 2, 'u1', 'dormant'),
        _event('workspace.agent_stats', 3, 'u1'),  # reactivates
        _event('page_view', 3.5, 'u1', username='ada.l'),
        _event('user.status_changed', 4, 'u1', 'suspended'),
        _event('page_view', 5, 'u1', avatar_url='https://a/2.png'),
        _event('user.status_changed', 6, 'u1', 'active'),
        _event('user.deleted', 7, 'u1'),
        _event('page_view', 8, 'u1', username='ghost'),
        _event('user.created', 2.5, 'u2', 'suspended'),
        _event('page_view', 2, 'u2', username='bob'),  # before its user.created: created active at it
    ]
    for event in life:  # project 1: one event per batch, in time order
        ingest(aws, [event], lambda_context)
    key, _ = create_key(get_settings(), '2', [Scope.INGEST], 'the same events, out of order')
    shuffled = [life[2], *random.Random(7).sample([e for e in life if e is not life[2]], len(life) - 1)]
    for start in range(0, len(shuffled), 3):  # project 2: three to a batch, the dormant change first (see the
        ingest(aws, shuffled[start : start + 3], lambda_context, key=key)  # limit in logic.user_directory)

    def shown(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        hidden = {'pk', 'version', 'activity'}  # how many writes it took, and the activity kept to derive it
        return {sk: {k: v for k, v in item.items() if k not in hidden} for sk, item in items.items()}

    in_order, out_of_order = _items(aws, '1'), _items(aws, '2')
    assert shown(out_of_order) == shown(in_order)
    assert [status for _, status in _history(in_order)] == [
        'active',  # u1 at its first event
        'dormant',
        'active',
        'suspended',
        'active',
        'active',  # u2 at its first event...
        'suspended',  # ...then by its user.created
    ]
    assert (in_order['user/u1']['username'], in_order['user/u1']['deleted_at']) == ('ghost', _at(7))


def test_two_writers_of_one_user_at_once_both_count(aws, lambda_context, now):
    # Given: another writer (another shard) writes the user's entry just after this one has read it
    from serverless_analytics.adapters import dynamodb
    from serverless_analytics.adapters.clients import client

    table = aws.name('UsersTable')
    other = UserEvent('other-event', 'page_view', _at(12), 'ada.from.the.other.shard', None, None)

    def written_meanwhile(parsed: dict, **_) -> None:
        if table in parsed.get('Responses', {}) and not _items(aws):
            dynamodb.write_user(table, user_write('1', None, merge(None, 'u1', [other])))

    client('dynamodb').meta.events.register('after-call.dynamodb.BatchGetItem', written_meanwhile)
    try:
        # When
        ingest(aws, [_event('page_view', 9, 'u1', username='ada')], lambda_context)
    finally:
        client('dynamodb').meta.events.unregister('after-call.dynamodb.BatchGetItem', written_meanwhile)

    # Then: the entry holds both writers' events
    entry = _items(aws)['user/u1']
    assert (entry['first_seen'], entry['last_seen'], entry['username']) == (_at(9), _at(12), 'ada.from.the.other.shard')
    assert entry['version'] == 2
    assert [sk.rsplit('/', 2)[1] for sk, _ in _history(_items(aws))] == [_at(9)]  # created at the earlier event


def test_a_user_seen_every_30_s_is_written_once_an_hour(aws, lambda_context, now):
    reports = [_event('workspace.agent_stats', 8 + n / 120, 'u1', username='ada') for n in range(240)]

    versions = []
    for start in range(0, len(reports), 10):  # 24 batches over two hours
        ingest(aws, reports[start : start + 10], lambda_context)
        versions.append(_items(aws)['user/u1']['version'])

    assert versions == [1] * 12 + [2] * 12
    entry = _items(aws)['user/u1']
    assert (entry['first_seen'], entry['last_seen'], entry['username']) == (_at(8), _at(9), 'ada')
