"""The usage rollup against moto: events ingested through the real handlers, the writer's marks, the buckets in
the lake and the daily active users in the aggregates table, re-runs, late events, the lock and a backfill; the app
catalogue and the user-session index."""

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest

from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import get_settings
from tests.conftest import load_event
from tests.integration.conftest import ingest, run_usage_rollup

TEMPLATE = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
OTHER = '0b7a5a3e-6f8e-4c33-9f0a-3c2e1d4b5a69'
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
DAY = '2026-11-22'


def _event(name: str, at: datetime, user: str, template: str | None = TEMPLATE, **properties: Any) -> dict:
    return {
        'event_name': name,
        'event_id': str(uuid.uuid4()),
        'timestamp': at.isoformat(),
        'user': {'id': user, 'username': user},
        **({'template_id': template} if template else {}),
        'properties': properties,
    }


def _ssh_reports(user: str, start: datetime, count: int, template: str = TEMPLATE) -> list[dict]:
    return [
        _event(
            'workspace.agent_stats',
            start + timedelta(seconds=30 * i),
            user,
            template,
            connection_count=1,
            connection_median_latency_ms=12.5,
            session_count_ssh=1,
        )
        for i in range(count)
    ]


@pytest.fixture
def now(pinned_now):
    return pinned_now(NOW)


def _run(context: Any, event: dict | None = None) -> dict:
    return run_usage_rollup(event)


def _buckets(aws, day: str = DAY, project: str = '1') -> list[dict]:
    body = aws.client('s3').get_object(
        Bucket=aws.name('LakeBucket'), Key=f'usage/project_id={project}/dt={day}/buckets.parquet'
    )
    return pq.read_table(io.BytesIO(body['Body'].read())).to_pylist()


def _dau(day: str = DAY) -> dict:
    [item] = dynamodb.daily_active_users(get_settings().AGGREGATES_TABLE, '1', day, day)
    return {'users': item['users'], 'by_template': item['by_template']}


def test_the_days_that_received_events_get_their_buckets_and_active_users(aws, lambda_context, now):
    nine = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    ingest(
        aws,
        _ssh_reports('u1', nine, 20) + _ssh_reports('u2', nine, 4, OTHER) + [_event('page_view', nine, 'u3', None)],
        lambda_context,
    )

    result = _run(lambda_context)

    # the touched day and the day after it (an app session may reach into it)... which is still today here
    assert result == {'skipped': False, 'days_recomputed': 1, 'days_left': 0, 'buckets_written': 3}
    by_user = {b['user_id']: b for b in _buckets(aws)}
    assert {u: (b['template_id'], b['usage_minutes'], b['ssh_minutes']) for u, b in by_user.items()} == {
        'u1': (TEMPLATE, 10, 10),
        'u2': (OTHER, 2, 2),
        'u3': (None, 1, 0),
    }
    assert by_user['u1']['median_latency_ms'] == 12.5
    assert _dau() == {'users': 3, 'by_template': {OTHER: 1, TEMPLATE: 1}}
    assert dynamodb.touched_partitions(get_settings().ROLLUP_STATE_TABLE) == []


def test_a_rerun_changes_nothing_and_a_late_event_is_counted_by_the_next_run(aws, lambda_context, now):
    nine = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    ingest(aws, _ssh_reports('u1', nine, 4), lambda_context)
    _run(lambda_context)
    before = _buckets(aws)

    assert _run(lambda_context)['days_recomputed'] == 0  # nothing touched since
    assert _buckets(aws) == before

    # a back-dated event of an earlier day, sent now
    ingest(aws, [_event('page_view', datetime(2026, 11, 20, 8, 0, tzinfo=UTC), 'u9')], lambda_context)
    result = _run(lambda_context)

    assert result['days_recomputed'] == 2  # the 20th and the 21st (an app session could reach into it)
    assert [(b['user_id'], b['usage_minutes']) for b in _buckets(aws, '2026-11-20')] == [('u9', 1)]
    assert _buckets(aws, '2026-11-21') == []
    assert _buckets(aws) == before


def test_a_run_while_another_holds_the_lock_does_nothing(aws, lambda_context, now):
    ingest(aws, _ssh_reports('u1', datetime(2026, 11, 22, 9, 0, tzinfo=UTC), 4), lambda_context)
    settings = get_settings()
    at = int(NOW.timestamp())
    assert dynamodb.acquire_lock(settings.ROLLUP_STATE_TABLE, 'usage-rollup', 'another run', at, at + 900)

    assert _run(lambda_context) == {'skipped': True, 'days_recomputed': 0, 'days_left': 0, 'buckets_written': 0}
    assert len(dynamodb.touched_partitions(settings.ROLLUP_STATE_TABLE)) == 1  # left for the lock's holder

    dynamodb.release_lock(settings.ROLLUP_STATE_TABLE, 'usage-rollup', 'another run')
    assert _run(lambda_context)['days_recomputed'] == 1


def test_an_expired_lock_does_not_block_the_next_run(aws, lambda_context, now):
    settings = get_settings()
    at = int(NOW.timestamp()) - 1000
    assert dynamodb.acquire_lock(settings.ROLLUP_STATE_TABLE, 'usage-rollup', 'a run that died', at, at + 900)

    assert _run(lambda_context)['skipped'] is False


def test_a_backfill_by_hand_recomputes_the_days_it_names(aws, lambda_context, now):
    ingest(aws, _ssh_reports('u1', datetime(2026, 11, 21, 9, 0, tzinfo=UTC), 4), lambda_context)
    _run(lambda_context)
    aws.client('s3').delete_object(
        Bucket=aws.name('LakeBucket'), Key='usage/project_id=1/dt=2026-11-21/buckets.parquet'
    )

    result = _run(lambda_context, {'project_id': '1', 'dates': ['2026-11-21']})

    assert (result['days_recomputed'], [b['usage_minutes'] for b in _buckets(aws, '2026-11-21')]) == (1, [2])


def test_a_wrong_request_by_hand_is_refused_before_anything_is_done(aws, lambda_context, now):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _run(lambda_context, {'project_id': '1', 'dates': ['yesterday']})


def test_the_sample_events_are_valid_requests():
    from serverless_analytics.models.usage import UsageRollupRequest

    assert not UsageRollupRequest.model_validate(load_event('roll_up_usage')).by_hand
    assert UsageRollupRequest.model_validate(load_event('roll_up_usage_by_hand')).by_hand
    assert json.dumps(load_event('roll_up_usage_by_hand'))


# --- the app catalogue ----------------------------------------------------------------------------------------

CATALOGUE_KEY = 'usage/project_id=1/catalogue/catalogue.parquet'


def _build(at: datetime, template: str, **apps: str) -> dict:
    """A build of `template` defining each app slug=display name."""
    listed = [{'agent_id': 'a1', 'slug': slug, 'display_name': name, 'icon': '/i.svg'} for slug, name in apps.items()]
    return _event('workspace.build', at, 'u1', template, workspace_id='w1', build_number=1, apps=listed)


def _catalogue(aws) -> list[tuple]:
    body = aws.client('s3').get_object(Bucket=aws.name('LakeBucket'), Key=CATALOGUE_KEY)['Body'].read()
    return [
        (row['template_id'], row['slug'], row['display_name']) for row in pq.read_table(io.BytesIO(body)).to_pylist()
    ]


BUILD_DAYS = ['2026-11-18', '2026-11-19', '2026-11-20']
BUILDS = [
    _build(datetime(2026, 11, 18, 9, tzinfo=UTC), TEMPLATE, **{'code-server': 'first', 'jupyter': 'Jupyter'}),
    _build(datetime(2026, 11, 18, 9, tzinfo=UTC), OTHER, **{'code-server': 'other'}),
    _build(datetime(2026, 11, 19, 9, tzinfo=UTC), TEMPLATE, **{'code-server': 'second'}),
    _build(datetime(2026, 11, 20, 23, 59, tzinfo=UTC), TEMPLATE, **{'code-server': 'third'}),
    _build(datetime(2026, 11, 20, 10, tzinfo=UTC), 'not-a-uuid', **{'code-server': 'no template'}),
]
CATALOGUE = [
    (None, '', ''),  # the row that says it is kept
    (OTHER, 'code-server', 'other'),
    (TEMPLATE, 'code-server', 'third'),
    (TEMPLATE, 'jupyter', 'Jupyter'),
]


@pytest.mark.parametrize(
    'runs',
    [
        [BUILD_DAYS],
        [[day] for day in BUILD_DAYS],
        [[day] for day in reversed(BUILD_DAYS)],
        [BUILD_DAYS[1:], BUILD_DAYS[:1], BUILD_DAYS[2:], BUILD_DAYS],  # late and re-run days
    ],
    ids=['one-run', 'in-order', 'reversed', 'late-and-again'],
)
def test_the_catalogue_is_the_same_whatever_order_days_are_rolled_up_in_and_again(aws, lambda_context, now, runs):
    ingest(aws, BUILDS, lambda_context)

    for dates in runs:
        assert _run(lambda_context, {'project_id': '1', 'dates': dates})['days_recomputed'] == len(dates)

    assert _catalogue(aws) == CATALOGUE


def test_a_lake_from_before_the_catalogue_gets_it_from_every_build_at_its_next_run(aws, lambda_context, now):
    ingest(aws, BUILDS, lambda_context)
    _run(lambda_context)
    aws.client('s3').delete_object(Bucket=aws.name('LakeBucket'), Key=CATALOGUE_KEY)  # as before the catalogue

    ingest(aws, [_event('page_view', NOW - timedelta(hours=1), 'u2', None)], lambda_context)
    assert _run(lambda_context)['days_recomputed'] == 1  # today only: no builds that day

    assert _catalogue(aws) == CATALOGUE


# --- the user-session index -----------------------------------------------------------------------------------

SESSIONS_PREFIX = 'usage/project_id=1/user_sessions/'


def _visit(at: datetime, session: str | None, user: str | None) -> dict:
    """A page view of `session` by `user`, either of them left out when None."""
    event = {'event_name': 'page_view', 'event_id': str(uuid.uuid4()), 'timestamp': at.isoformat(), 'properties': {}}
    return {**event, **({'session_id': session} if session else {}), **({'user_id': user} if user else {})}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


VISITS = [
    _visit(_at('2026-11-19 09:00:00.125'), 's1', None),  # anonymous, then signs in
    _visit(_at('2026-11-19 09:00:03.500'), 's1', 'u1'),
    _visit(_at('2026-11-19 09:10:00'), 's1', 'u1'),
    _visit(_at('2026-11-19 09:20:00'), 's1', 'u2'),  # a second user on the device
    _visit(_at('2026-11-19 23:50:00'), 's2', 'u1'),  # crosses midnight
    _visit(_at('2026-11-20 00:10:00'), 's2', 'u1'),
    _visit(_at('2026-11-20 08:00:00'), None, 'u3'),  # no session
    _visit(_at('2026-11-20 08:05:00'), None, None),  # neither
    _visit(_at('2026-11-22 12:00:00'), 's3', 'u3'),
    _visit(_at('2026-11-22 12:01:00'), 's4', None),
]


def _reference_pairs(visits: list[dict]) -> dict[str, set[tuple]]:
    """Per UTC day, each (session, user) of the day's events but those of neither, with its first event time."""
    first: dict[tuple, datetime] = {}
    for visit in visits:
        at = datetime.fromisoformat(visit['timestamp'])
        pair = (visit['timestamp'][:10], visit.get('session_id'), visit.get('user_id'))
        if pair[1:] != (None, None):
            first[pair] = min(first.get(pair, at), at)
    days: dict[str, set[tuple]] = {}
    for (day, session, user), at in first.items():
        days.setdefault(day, set()).add((session, user, at))
    return days


def _index_files(aws) -> dict[str, bytes]:
    s3 = aws.client('s3')
    bucket = aws.name('LakeBucket')
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=SESSIONS_PREFIX).get('Contents', [])
    return {o['Key']: s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read() for o in listed}


def _index(aws) -> dict[str, set[tuple]]:
    """Per day of an index object, its rows as (session, user, first_at)."""
    days = {}
    for key, body in _index_files(aws).items():
        table = pq.read_table(io.BytesIO(body))
        assert table.schema.names == ['session_id', 'user_id', 'first_at']
        rows = [(row['session_id'], row['user_id'], row['first_at']) for row in table.to_pylist()]
        assert len(set(rows)) == len(rows)
        days[key.removeprefix(SESSIONS_PREFIX).removesuffix('.parquet')] = set(rows)
    return days


def test_each_recomputed_day_gets_its_session_user_pairs_and_a_rerun_writes_them_again_the_same(
    aws, lambda_context, now
):
    ingest(aws, VISITS, lambda_context)

    assert _run(lambda_context)['days_recomputed'] == 4  # the 19th to the 22nd: the 21st as the day after the 20th

    expected = {'2026-11-21': set(), **_reference_pairs(VISITS)}
    assert _index(aws) == expected
    assert expected['2026-11-19'] >= {
        ('s1', None, _at('2026-11-19 09:00:00.125')),
        ('s1', 'u2', _at('2026-11-19 09:20')),
    }
    written = _index_files(aws)

    # the whole history again by hand, one day's object lost meanwhile: the same objects, byte for byte
    aws.client('s3').delete_object(Bucket=aws.name('LakeBucket'), Key=f'{SESSIONS_PREFIX}2026-11-20.parquet')
    rerun = {'project_id': '1', 'dates': ['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']}
    assert _run(lambda_context, rerun)['days_recomputed'] == 4

    assert _index_files(aws) == written


def test_a_late_event_joins_its_days_pairs_at_the_next_run(aws, lambda_context, now):
    ingest(aws, VISITS, lambda_context)
    _run(lambda_context)

    late = [_visit(_at('2026-11-19 08:59:59.999'), 's1', 'u1'), _visit(_at('2026-11-19 10:00'), 's9', 'u4')]
    ingest(aws, late, lambda_context)
    assert _run(lambda_context)['days_recomputed'] == 2  # the 19th, and the 20th after it

    assert _index(aws) == {'2026-11-21': set(), **_reference_pairs(VISITS + late)}
