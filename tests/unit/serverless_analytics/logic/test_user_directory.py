"""The user directory's planning: one user's events merged batch by batch into its directory entry and status
history, in any order; the keys and items a merge writes."""

import json
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.user_directory import (
    DirectoryEntry,
    UserEvent,
    merge,
    unchanged_by_activity,
    user_events,
    user_write,
    with_dormancy,
)
from serverless_analytics.models.insights import UserStatus

ACTIVE, DORMANT, SUSPENDED = UserStatus.ACTIVE, UserStatus.DORMANT, UserStatus.SUSPENDED


def _event(
    event_id: str,
    at: str,
    name: str = 'page_view',
    status: UserStatus | None = None,
    username: str | None = None,
    avatar_url: str | None = None,
) -> UserEvent:
    return UserEvent(event_id, name, f'2026-{at}.000Z', username, avatar_url, status)


def _changed(event_id: str, at: str, status: UserStatus) -> UserEvent:
    return _event(event_id, at, 'user.status_changed', status)


def _merged(batches: list[list[UserEvent]]) -> DirectoryEntry:
    entry = None
    for batch in batches:
        entry = merge(entry, 'u1', batch)
    assert entry is not None
    return entry


def _history(entry: DirectoryEntry) -> list[tuple[str, str, str]]:
    return [(change.at[5:-5], change.n, change.status.value) for change in entry.history]


def _visible(entry: DirectoryEntry) -> dict:
    """What the directory and history show (the activity kept to derive the history aside)."""
    return entry.model_dump(exclude={'activity'})


# A user's year: created, renamed, a new avatar, dormant then back on its next event, suspended, active, deleted,
# and events after the deletion.
LIFE = [
    _event('e01', '01-01T09:00:00', username='ada', avatar_url='https://a/1.png'),
    _event('e02', '01-01T09:00:01', 'user.created', ACTIVE),
    _event('e03', '02-01T00:00:00', username='ada.l'),
    _changed('e04', '02-10T00:00:00', DORMANT),
    _event('e05', '02-11T08:00:00', 'workspace.agent_stats'),
    _event('e06', '02-12T08:00:00', avatar_url='https://a/2.png'),
    _changed('e07', '03-01T00:00:00', SUSPENDED),
    _event('e08', '03-02T10:00:00'),
    _changed('e09', '04-01T00:00:00', ACTIVE),
    _event('e10', '04-02T10:00:00', username='ada.lovelace'),
    _event('e11', '05-01T00:00:00', 'user.deleted'),
    _event('e12', '05-02T00:00:00', username='ghost'),
    _changed('e13', '05-03T00:00:00', SUSPENDED),
]


def test_a_user_history_in_order():
    entry = _merged([[event] for event in LIFE])

    assert _history(entry) == [
        ('01-01T09:00:00', '0-e01', 'active'),  # created at its first event, whose user.created changes nothing
        ('02-10T00:00:00', '2-e04', 'dormant'),
        ('02-11T08:00:00', '1-e05', 'active'),  # its next event, of any kind but user.*, reactivates it
        ('03-01T00:00:00', '2-e07', 'suspended'),  # an event of a suspended user changes nothing
        ('04-01T00:00:00', '2-e09', 'active'),
    ]
    assert (entry.status, entry.deleted_at, entry.deleted_by) == (ACTIVE, '2026-05-01T00:00:00.000Z', 'e11')
    # the directory shows the latest values, events after the deletion included
    assert (entry.username, entry.avatar_url) == ('ghost', 'https://a/2.png')
    assert (entry.first_seen, entry.last_seen) == ('2026-01-01T09:00:00.000Z', '2026-05-03T00:00:00.000Z')


@pytest.mark.parametrize('seed', range(40))
def test_batches_in_any_order_give_the_same_directory_and_history(seed):
    in_order = _merged([[event] for event in LIFE])
    rng = random.Random(seed)
    # The dormant change comes no later than the events after it (see the next test); the rest in any order,
    # several to a batch, some twice (a client's retry that reached the writer as a new event id would not,
    # but a redelivered batch after a failure does).
    rest = [event for event in LIFE if event.event_id != 'e04']
    rng.shuffle(rest)
    events = [LIFE[3], *rest, *rng.sample(LIFE, 3)]
    cuts = sorted(rng.sample(range(1, len(events)), 4))
    batches = [events[start:end] for start, end in zip([0, *cuts], [*cuts, len(events)], strict=True)]

    assert _visible(_merged(batches)) == _visible(in_order)


def test_a_dormant_change_sent_after_activity_the_entry_did_not_keep_reactivates_at_the_next_kept_one():
    # The documented limit: the entry keeps some activity, not every event. e05 (the first event after the
    # dormant change) came in a batch with later events, and was kept neither as the last event nor as the first
    # after a status event the entry knew.
    batches = [
        [LIFE[0], LIFE[1]],
        [LIFE[2]],  # e03: the first activity after user.created, kept
        [LIFE[4], LIFE[5], LIFE[7]],  # e05, e06 and e08: e08, the last, is kept
        [LIFE[3]],  # the dormant change of 02-10, late
    ]

    assert _history(_merged(batches))[1:] == [
        ('02-10T00:00:00', '2-e04', 'dormant'),
        ('03-02T10:00:00', '1-e08', 'active'),  # in order: 02-11 (e05)
    ]


def test_a_late_user_created_replaces_the_creation_at_the_first_event():
    early = [_event('e01', '01-05T00:00:00'), _event('e02', '01-06T00:00:00')]
    before = _merged([early])
    after = merge(before, 'u1', [_event('e00', '01-01T00:00:00', 'user.created', SUSPENDED)])

    assert _history(before) == [('01-05T00:00:00', '0-e01', 'active')]
    assert _history(after) == [('01-01T00:00:00', '2-e00', 'suspended')]
    write = user_write('p1', before, after)
    assert [item['sk'] for item in write.put_items] == ['status/u1/2026-01-01T00:00:00.000Z/2-e00']
    assert write.delete_keys == [{'pk': 'p1', 'sk': 'status/u1/2026-01-05T00:00:00.000Z/0-e01'}]


def test_history_keys_come_from_the_event_ids_so_a_redelivery_writes_nothing():
    batch = [_event('e01', '01-01T00:00:00'), _changed('e02', '01-02T00:00:00', SUSPENDED)]
    entry = _merged([batch])

    write = user_write('p1', None, entry)

    assert [(item['sk'], item['new_status']) for item in write.put_items] == [
        ('status/u1/2026-01-01T00:00:00.000Z/0-e01', 'active'),
        ('status/u1/2026-01-02T00:00:00.000Z/2-e02', 'suspended'),
    ]
    assert write.expected_version is None and write.entry['version'] == 1
    assert merge(entry, 'u1', batch) == entry  # the same events again: nothing to write
    assert merge(entry, 'u1', batch[:1]) == entry


def test_the_dormancy_job_makes_an_idle_active_user_dormant_and_its_next_event_active_again():
    entry = _merged([[_event('e01', '01-01T00:00:00')]])
    job = datetime(2026, 4, 15, 0, 15, tzinfo=UTC)

    assert with_dormancy(entry, job, job - timedelta(days=120)) is None  # seen since the cutoff
    dormant = with_dormancy(entry, job, job - timedelta(days=90))
    assert dormant is not None and dormant.status == DORMANT
    assert with_dormancy(dormant, job, job - timedelta(days=90)) is None  # a re-run changes nothing

    back = merge(dormant, 'u1', [_event('e02', '04-20T08:00:00')])

    assert _history(back) == [
        ('01-01T00:00:00', '0-e01', 'active'),
        ('04-15T00:15:00', '3-dormancy', 'dormant'),
        ('04-20T08:00:00', '1-e02', 'active'),
    ]
    assert back.status == ACTIVE


def test_a_late_event_from_before_the_job_but_within_the_idle_period_takes_the_dormancy_back():
    entry = _merged([[_event('e01', '01-01T00:00:00')]])
    job = datetime(2026, 4, 15, 0, 15, tzinfo=UTC)
    dormant = with_dormancy(entry, job, job - timedelta(days=90))
    assert dormant is not None

    # sent on 03-01, it reached the writer after the job: in order, the job would not have found the user idle
    late = merge(dormant, 'u1', [_event('e02', '03-01T00:00:00')])

    assert _history(late) == [('01-01T00:00:00', '0-e01', 'active')]
    assert late.facts == ()
    assert _visible(late) == _visible(_merged([[_event('e01', '01-01T00:00:00')], [_event('e02', '03-01T00:00:00')]]))


def test_an_older_event_does_not_replace_a_newer_username():
    entry = _merged(
        [[_event('e02', '01-02T00:00:00', username='new')], [_event('e01', '01-01T00:00:00', username='old')]]
    )

    assert (entry.username, entry.username_at) == ('new', '2026-01-02T00:00:00.000Z')
    assert (entry.first_seen, entry.last_seen) == ('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')


def test_the_earliest_deletion_counts_and_later_status_events_are_ignored():
    entry = _merged(
        [
            [_event('e01', '01-01T00:00:00'), _event('e03', '03-01T00:00:00', 'user.deleted')],
            [_event('e02', '02-01T00:00:00', 'user.deleted'), _changed('e04', '02-15T00:00:00', SUSPENDED)],
        ]
    )

    assert (entry.deleted_at, entry.deleted_by) == ('2026-02-01T00:00:00.000Z', 'e02')
    assert _history(entry) == [('01-01T00:00:00', '0-e01', 'active')]
    write = user_write('p1', None, entry)
    assert write.put_items[-1] == {
        'pk': 'p1',
        'sk': 'deleted/u1',
        'user_id': 'u1',
        'deleted_at': '2026-02-01T00:00:00.000Z',
        'event_id': 'e02',
    }


def test_a_first_status_event_creates_the_user_with_its_own_status():
    entry = _merged([[_changed('e02', '01-02T00:00:00', SUSPENDED), _event('e03', '01-03T00:00:00')]])

    assert _history(entry) == [('01-02T00:00:00', '2-e02', 'suspended')]


def test_the_events_of_lake_rows_by_user():
    def row(event_id: str, name: str, user_id: str | None, properties: dict | None = None) -> dict:
        return {
            'event_id': event_id,
            'name': name,
            'timestamp': datetime(2026, 11, 22, 13, 5, 0, 123456, tzinfo=UTC),
            'user_id': user_id,
            'username': 'ada' if user_id else None,
            'properties': json.dumps(properties or {}),
        }

    rows = pa.Table.from_pylist(
        [
            row('e1', 'page_view', 'u1'),
            row('e2', 'user.created', 'u1'),  # no status: active
            row('e3', 'user.status_changed', 'u2', {'status': 'suspended'}),
            row('e4', 'user.status_changed', 'u2', {'status': 'on holiday'}),  # not a status: an ordinary event
            row('e5', 'page_view', None),
        ],
        schema=FILE_SCHEMA,
    )

    events = user_events(rows)

    at = '2026-11-22T13:05:00.123Z'
    assert events == {
        'u1': [
            UserEvent('e1', 'page_view', at, 'ada', None, None),
            UserEvent('e2', 'user.created', at, 'ada', None, ACTIVE),
        ],
        'u2': [
            UserEvent('e3', 'user.status_changed', at, 'ada', None, SUSPENDED),
            UserEvent('e4', 'user.status_changed', at, 'ada', None, None),
        ],
    }


def test_an_entry_reads_back_from_its_item():
    entry = _merged([[event] for event in LIFE])

    assert DirectoryEntry.model_validate(entry.item()) == entry


def test_events_in_an_hour_the_user_was_already_seen_in_change_nothing():
    entry = _merged([[_event('e01', '01-01T09:05:00', username='ada')]])

    # agent reports every 30 s for the rest of the hour, a batch at a time: the entry stays as written
    reports = [_event(f'r{n:03d}', f'01-01T09:{5 + n // 2:02d}:{30 * (n % 2):02d}', username='ada') for n in range(100)]
    assert all(merge(entry, 'u1', [report]) == entry for report in reports)
    assert (entry.last_seen, entry.username_at) == ('2026-01-01T09:00:00.000Z', '2026-01-01T09:00:00.000Z')

    # the next hour's first event is written
    later = merge(entry, 'u1', [_event('e02', '01-01T10:00:30', username='ada')])
    assert later != entry and later.last_seen == '2026-01-01T10:00:00.000Z'
    assert merge(later, 'u1', [_event('e03', '01-01T10:59:59')]) == later


def test_of_two_names_in_one_hour_the_greater_shows_until_a_later_hour_brings_the_new_one():
    names = [_event('e01', '01-01T09:05:00', username='robert'), _event('e02', '01-01T09:10:00', username='bob')]

    assert _merged([names]).username == _merged([names[1:], names[:1]]).username == 'robert'
    assert _merged([names, [_event('e03', '01-01T10:00:00', username='bob')]]).username == 'bob'


def test_of_the_last_hour_the_first_activity_is_kept_whatever_the_order():
    hour = [_event(f'e{n}', f'01-01T09:{n:02d}:00') for n in (40, 5, 20)]
    first = _event('e00', '01-01T08:00:00')

    kept = {_merged([[first], *([event] for event in order)]).activity for order in (hour, hour[::-1])}

    assert kept == {(('2026-01-01T08:00:00.000Z', 'e00'), ('2026-01-01T09:05:00.000Z', 'e5'))}


def test_dormancy_compares_the_cutoff_with_the_hour_the_user_was_last_seen_in():
    entry = _merged([[_event('e01', '01-01T09:40:00')]])
    job = datetime(2026, 4, 1, 0, 15, tzinfo=UTC)

    # seen at 09:40, idle since 09:50: still seen within the cutoff's hour (the job's next run makes it dormant)
    assert with_dormancy(entry, job, datetime(2026, 1, 1, 9, 50, tzinfo=UTC)) is None
    assert with_dormancy(entry, job, datetime(2026, 1, 1, 10, 0, tzinfo=UTC)) is not None


def _stored(entry: DirectoryEntry) -> dict:
    """The entry as the writer reads it back (keys included, as the users table holds it)."""
    return {'pk': 'p1', 'sk': 'user/u1', **entry.item()}


def test_activity_in_an_hour_the_user_was_seen_in_is_told_unchanged_without_merging():
    entry = _merged([[_event('e01', '01-01T09:05:00', username='ada'), _event('e02', '01-01T08:30:00')]])

    for later in (_event('e03', '01-01T09:40:00', username='ada'), _event('e04', '01-01T08:50:00')):
        assert unchanged_by_activity(_stored(entry), 'u1', [later])
        assert merge(entry, 'u1', [later]) == entry
    # a later hour, an earlier first event, a new name, a user event: each changes the entry, so merge decides
    for change in (
        _event('e05', '01-01T10:00:00'),
        _event('e06', '01-01T08:00:00'),
        _event('e07', '01-01T09:50:00', username='bob'),
        _event('e08', '01-01T09:50:00', 'user.created', ACTIVE),
    ):
        assert not unchanged_by_activity(_stored(entry), 'u1', [change])


def test_a_user_with_a_status_fact_is_left_to_merge():
    # user.created after the first event: the history is still the creation alone, but the entry keeps the first
    # activity after the fact (09:05), which an event at 08:20 replaces
    entry = _merged([[_event('a', '01-01T08:00:00'), _event('f', '01-01T08:10:00', 'user.created', ACTIVE)]])
    entry = merge(entry, 'u1', [_event('b', '01-01T09:05:00')])
    later = [_event('e', '01-01T08:20:00')]

    assert _history(entry) == [('01-01T08:00:00', '0-a', 'active')]
    assert merge(entry, 'u1', later) != entry
    assert not unchanged_by_activity(_stored(entry), 'u1', later)


def _random_event(rng: random.Random, ids: list[str], user_share: float) -> UserEvent:
    """An event of one of two days, at one of a few times (so that hours and times meet), a user event with the
    probability `user_share`; ids already used come back now and then (redeliveries)."""
    name = rng.choice(['user.created', 'user.status_changed', 'user.deleted']) if rng.random() < user_share else 'view'
    status = rng.choice([ACTIVE, DORMANT, SUSPENDED]) if name in ('user.created', 'user.status_changed') else None
    at = f'01-0{rng.randrange(1, 3)}T0{rng.randrange(8, 10)}:{rng.choice(["00", "05", "30"])}:00'
    event_id = rng.choice(ids) if ids and rng.random() < 0.2 else f'e{len(ids):03d}'
    ids.append(event_id)
    return _event(event_id, at, name, status, rng.choice([None, None, 'ada', 'bob']), rng.choice([None, None, 'a.png']))


@pytest.mark.parametrize('seed', range(500))
def test_an_entry_told_unchanged_is_one_merge_leaves_as_it_is(seed):
    rng = random.Random(seed)
    ids: list[str] = []
    user_share = rng.choice([0, 0.1, 0.3])
    batches = [[_random_event(rng, ids, user_share) for _ in range(rng.randrange(1, 4))] for _ in range(3)]
    merged = batches[: rng.randrange(1, 4)]
    entry = _merged(merged)
    if rng.random() < 0.2:
        job = datetime(2026, 1, 3, tzinfo=UTC)
        entry = with_dormancy(entry, job, job - timedelta(hours=rng.randrange(12, 30))) or entry
    # later events, or some of the events merged already (a redelivery)
    batch = [_random_event(rng, ids, user_share / 3) for _ in range(rng.randrange(1, 4))]
    if rng.random() < 0.3:
        batch = rng.sample([event for events in merged for event in events], 1)

    if unchanged_by_activity(_stored(entry), 'u1', batch):
        assert merge(entry, 'u1', batch) == entry
