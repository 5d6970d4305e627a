"""The daily user status job against moto: users written by the real ingestion and writer handlers, the job's
handler with the clock pinned; dormancy, the daily snapshots, re-runs, the lock and a backfill by hand."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.update_user_status.app import lambda_handler as job_handler
from local.runtime import LocalFunction
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import get_settings
from tests.conftest import load_event
from tests.integration.conftest import TEMPLATE, ingest

START = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)
JOB = datetime(2026, 11, 1, 0, 15, tzinfo=UTC)  # cutoff: 3 August 00:15, 90 days before
_DESERIALIZE = TypeDeserializer().deserialize


def _event(name: str, at: datetime, user: str, status: str | None = None) -> dict:
    return {
        'event_name': name,
        'event_id': str(uuid.uuid4()),
        'timestamp': at.isoformat(),
        'user': {'id': user, 'username': user},
        'properties': {'status': status} if status else {},
    }


def _ingest_at(aws, pinned_now, at: datetime, events: list[dict], context) -> None:
    pinned_now(at)
    ingest(aws, events, context)


def _run(pinned_now, at: datetime = JOB, event: dict | None = None) -> dict:
    pinned_now(at)
    context = LocalFunction(TEMPLATE.function('UpdateUserStatusFunction')).context()
    return job_handler(event or load_event('update_user_status'), context)


def _table(aws, logical_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    items = aws.client('dynamodb').scan(TableName=aws.name(logical_id), ConsistentRead=True)['Items']
    decoded = [{name: _DESERIALIZE(value) for name, value in item.items()} for item in items]
    return {(item['pk'], item['sk']): item for item in decoded}


def _statuses(aws) -> dict[str, str]:
    return {sk[5:]: item['status'] for (_, sk), item in _table(aws, 'UsersTable').items() if sk.startswith('user/')}


def _snapshot(day: str) -> dict[str, int]:
    [item] = dynamodb.user_status_snapshots(get_settings().AGGREGATES_TABLE, '1', day, day)
    return item['counts']


@pytest.fixture
def users(aws, lambda_context, pinned_now):
    """idle: last seen on 1 August; recent: seen on 15 October; suspended: idle too, but suspended."""
    _ingest_at(
        aws,
        pinned_now,
        START,
        [
            _event('page_view', START, 'idle'),
            _event('page_view', START, 'recent'),
            _event('page_view', START, 'suspended'),
        ],
        lambda_context,
    )
    _ingest_at(
        aws,
        pinned_now,
        START + timedelta(hours=1),
        [_event('user.status_changed', START, 'suspended', 'suspended')],
        lambda_context,
    )
    october = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    _ingest_at(aws, pinned_now, october, [_event('page_view', october, 'recent')], lambda_context)


def test_an_active_user_idle_for_ninety_days_becomes_dormant_and_the_day_gets_its_snapshot(aws, users, pinned_now):
    result = _run(pinned_now)

    assert result == {
        'skipped': False,
        'users_checked': 3,
        'users_made_dormant': 1,
        'users_left': 0,
        'snapshots_written': 1,
    }
    assert _statuses(aws) == {'idle': 'dormant', 'recent': 'active', 'suspended': 'suspended'}
    change = _table(aws, 'UsersTable')[('1', 'status/idle/2026-11-01T00:15:00.000Z/3-dormancy')]
    assert (change['new_status'], change['changed_at']) == ('dormant', '2026-11-01T00:15:00.000Z')
    # the counts at the day's UTC midnight, before this run's change at 00:15
    assert _snapshot('2026-11-01') == {'active': 2, 'dormant': 0, 'suspended': 1}


def test_a_rerun_changes_nothing(aws, users, pinned_now):
    _run(pinned_now)
    users_before, aggregates_before = _table(aws, 'UsersTable'), _table(aws, 'AggregatesTable')

    result = _run(pinned_now, JOB + timedelta(hours=3))  # later the same day

    assert (result['users_made_dormant'], result['snapshots_written']) == (0, 1)
    assert _table(aws, 'UsersTable') == users_before
    assert _table(aws, 'AggregatesTable') == aggregates_before


def test_a_dormant_users_next_event_makes_it_active_and_the_next_snapshot_counts_it(
    aws, users, lambda_context, pinned_now
):
    _run(pinned_now)
    back = _event('page_view', JOB + timedelta(hours=10), 'idle')
    _ingest_at(aws, pinned_now, JOB + timedelta(hours=10), [back], lambda_context)

    assert _statuses(aws)['idle'] == 'active'
    change = _table(aws, 'UsersTable')[('1', f'status/idle/2026-11-01T10:15:00.000Z/1-{back["event_id"]}')]
    assert change['new_status'] == 'active'

    assert _run(pinned_now, JOB + timedelta(days=1))['users_made_dormant'] == 0
    assert _snapshot('2026-11-02') == {'active': 2, 'dormant': 0, 'suspended': 1}


def test_a_deleted_user_is_neither_made_dormant_nor_counted(aws, users, lambda_context, pinned_now):
    deleted_at = START + timedelta(days=1)
    _ingest_at(aws, pinned_now, deleted_at, [_event('user.deleted', deleted_at, 'idle')], lambda_context)

    assert _run(pinned_now)['users_made_dormant'] == 0
    assert _statuses(aws)['idle'] == 'active'
    assert _snapshot('2026-11-01') == {'active': 1, 'dormant': 0, 'suspended': 1}


def test_a_run_while_another_holds_the_lock_does_nothing(aws, users, pinned_now):
    settings = get_settings()
    at = int(JOB.timestamp())
    assert dynamodb.acquire_lock(settings.ROLLUP_STATE_TABLE, 'user-status', 'another run', at, at + 900)

    assert _run(pinned_now)['skipped'] is True
    assert _statuses(aws)['idle'] == 'active'
    assert dynamodb.user_status_snapshots(settings.AGGREGATES_TABLE, '1', '2026-11-01', '2026-11-01') == []

    dynamodb.release_lock(settings.ROLLUP_STATE_TABLE, 'user-status', 'another run')
    assert _run(pinned_now)['users_made_dormant'] == 1


def test_an_expired_lock_does_not_block_the_next_run(aws, users, pinned_now):
    at = int(JOB.timestamp()) - 1000
    assert dynamodb.acquire_lock(get_settings().ROLLUP_STATE_TABLE, 'user-status', 'a run that died', at, at + 900)

    assert _run(pinned_now)['users_made_dormant'] == 1


def test_a_backfill_by_hand_writes_the_snapshots_of_the_days_it_names_and_changes_no_status(aws, users, pinned_now):
    result = _run(pinned_now, event={'project_id': '1', 'dates': ['2026-08-01', '2026-08-02', '2026-10-16']})

    assert (result['users_made_dormant'], result['snapshots_written']) == (0, 3)
    assert _statuses(aws)['idle'] == 'active'
    assert _snapshot('2026-08-01') == {'active': 0, 'dormant': 0, 'suspended': 0}  # everyone came at 10:00
    assert _snapshot('2026-08-02') == {'active': 2, 'dormant': 0, 'suspended': 1}
    assert _snapshot('2026-10-16') == {'active': 2, 'dormant': 0, 'suspended': 1}


def test_a_wrong_request_by_hand_is_refused_before_anything_is_done(aws, pinned_now):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _run(pinned_now, event={'project_id': '1', 'dates': ['yesterday']})


def test_the_sample_events_are_valid_requests():
    from serverless_analytics.logic.user_status import UserStatusRequest

    assert not UserStatusRequest.model_validate(load_event('update_user_status')).by_hand
    assert UserStatusRequest.model_validate(load_event('update_user_status_by_hand')).by_hand
