"""The derived cubes over a user's whole history (issue 15): with a date range on `Sessions.startAt` or
`ReturningUsers.first_timestamp`, whether a session is its user's first, when the user's next session starts and
how many sessions a user has count the sessions before and after the range too, whether the lake has the usage
rollup's user-session index for every day, for none, or not yet for today and yesterday (which the range's own
events fill in); and an older day after the range the rollup has not indexed yet is missing from the history until
it does.

Answered through `load` over a DuckDB lake, against a plain-Python reference over the same events."""

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

import pytest

from serverless_analytics.cube import load
from serverless_analytics.engines import DuckDBEngine
from serverless_analytics.logic.user_sessions import user_sessions_key
from tests.differential.lake import write_lake

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
RANGE = ['2024-05-06', '2024-05-08']
RANGE_START = datetime(2024, 5, 6, tzinfo=UTC)
RANGE_END = datetime(2024, 5, 9, tzinfo=UTC)  # exclusive
RANGE_DAYS = ['2024-05-06', '2024-05-07', '2024-05-08']
LATE_DAY = '2024-05-12'  # after the range and the Sessions cube's day of margin
# A `now` on the range's last day: its day and the one before (the range's last day and the margin day after it)
# may not be indexed yet, and the events of the range are read beside the index for them.
NOW_IN_RANGE = datetime(2024, 5, 9, 12, 0, tzinfo=UTC)
RECENT_DAYS = ['2024-05-08', '2024-05-09']


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#  (timestamp, session, user): project 1's events, a history around the range 2024-05-06..08
HISTORY: list[tuple[str, str | None, str | None]] = [
    # u1: a first session weeks before the range, one in it, the next after the range (beyond its margin), and
    # one more later still
    ('2024-04-10 09:00', 'a1', 'u1'),
    ('2024-04-10 09:20', 'a1', 'u1'),
    ('2024-05-06 10:00', 'a2', 'u1'),
    ('2024-05-06 10:30', 'a2', 'u1'),
    ('2024-05-12 08:00', 'a3', 'u1'),
    ('2024-05-20 08:00', 'a4', 'u1'),
    # u2: first ever in the range, then a session in the margin day after it and one weeks later
    ('2024-05-07 11:00', 'b1', 'u2'),
    ('2024-05-09 11:00', 'b2', 'u2'),
    ('2024-05-25 11:00', 'b3', 'u2'),
    # u3: a session weeks before; in the range one crossing midnight, then one more the same day
    ('2024-04-20 14:00', 'c1', 'u3'),
    ('2024-05-07 23:50', 'c2', 'u3'),
    ('2024-05-08 00:20', 'c2', 'u3'),
    ('2024-05-08 12:00', 'c3', 'u3'),
    # u4: the first session crosses midnight into the range (so it starts before it), a second one in it
    ('2024-05-05 23:55', 'd0', 'u4'),
    ('2024-05-06 00:05', 'd0', 'u4'),
    ('2024-05-06 15:00', 'd1', 'u4'),
    # anonymous sessions, before, in, just after and well after the range
    ('2024-04-15 10:00', 'n1', None),
    ('2024-05-06 09:00', 'n2', None),
    ('2024-05-07 09:00', 'n3', None),
    ('2024-05-07 09:05', 'n3', None),
    ('2024-05-12 09:00', 'n4', None),
    ('2024-05-20 09:00', 'n5', None),
    # u5 signs in midway through a session in the range; an earlier session in March
    ('2024-03-01 10:00', 'e0', 'u5'),
    ('2024-05-06 12:00', 'e1', None),
    ('2024-05-06 12:05', 'e1', 'u5'),
    # a shared device: u6 then u7 in one session (its user is the smaller id); u7 had a session in April
    ('2024-04-01 10:00', 'f0', 'u7'),
    ('2024-05-07 16:00', 'f1', 'u6'),
    ('2024-05-07 16:10', 'f1', 'u7'),
    # u8: server-side events without a session (first seen in the range), one session later
    ('2024-05-07 08:00', None, 'u8'),
    ('2024-05-08 08:00', None, 'u8'),
    ('2024-05-25 08:00', 'g1', 'u8'),
    # u9: first seen in the range, the next session after it on the late day
    ('2024-05-08 18:00', 'h1', 'u9'),
    ('2024-05-12 18:00', 'h2', 'u9'),
    # a session crossing midnight out of the range's last day
    ('2024-05-08 23:50', 'i1', 'u10'),
    ('2024-05-09 00:10', 'i1', 'u10'),
    # events of neither a session nor a user
    ('2024-05-07 07:00', None, None),
    ('2024-04-02 07:00', None, None),
]
# Another project's history: had it leaked, b1 would not be u2's first session nor u2 first seen in the range.
OTHER_PROJECT = [('2024-04-01 10:00', 'z1', 'u2'), ('2024-05-06 10:05', 'a2', 'u1')]


def _events() -> list[dict]:
    rows = [('1', *event) for event in HISTORY] + [('2', *event) for event in OTHER_PROJECT]
    return [
        {
            'project_id': project,
            'event_id': f'e{index}',
            'name': 'page_view',
            'category': 'page_view',
            'priority': 'normal',
            'timestamp': at(stamp),
            'session_id': session,
            'user_id': user,
            'page_path': '/docs',
            'properties': json.dumps({}),
        }
        for index, (project, stamp, session, user) in enumerate(rows)
    ]


EVENTS = _events()


# --- the reference ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    session_id: str
    start: datetime
    user: str | None


def _sessions(events: list[dict]) -> dict[str, Session]:
    """A session's start is its first event's time, its user the smallest user id among its events."""
    times, users = defaultdict(list), defaultdict(list)
    for event in events:
        if event['session_id'] is not None:
            times[event['session_id']].append(event['timestamp'])
            if event['user_id'] is not None:
                users[event['session_id']].append(event['user_id'])
    return {s: Session(s, min(times[s]), min(users[s], default=None)) for s in times}


def _history(events: list[dict]) -> dict[str, tuple[bool, datetime | None]]:
    """Per session: whether it is its user's first and when the user's next session starts, the sessions of each
    user (the anonymous ones together) in (start, session id) order."""
    by_user = defaultdict(list)
    for session in _sessions(events).values():
        by_user[session.user].append(session)
    found = {}
    for user, sessions in by_user.items():
        ordered = sorted(sessions, key=lambda s: (s.start, s.session_id))
        for rank, session in enumerate(ordered):
            following = ordered[rank + 1].start if rank + 1 < len(ordered) else None
            found[session.session_id] = (user is None or rank == 0, following)
    return found


def _project(events: list[dict]) -> list[dict]:
    return [event for event in events if event['project_id'] == '1']


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]


def reference_sessions(history: list[dict], events: list[dict]) -> list[dict]:
    """The range's sessions (from the range's own events) with their place in `history`."""
    known = _history(_project(history))
    rows = []
    for session in _sessions(_project(events)).values():
        if RANGE_START <= session.start < RANGE_END:
            first, following = known[session.session_id]
            rows.append(
                {
                    'Sessions.startAt.minute': _stamp(session.start),
                    'Sessions.startAt': _stamp(session.start),
                    'Sessions.userId': session.user,
                    'Sessions.isFirst': 'true' if first else 'false',
                    'Sessions.nextStartAt': _stamp(following),
                }
            )
    return sorted(rows, key=lambda row: row['Sessions.startAt'])


def reference_users(history: list[dict]) -> list[dict]:
    """The users first seen in the range: each user's first event time and distinct sessions over `history`."""
    first, sessions = {}, defaultdict(set)
    for event in _project(history):
        user = event['user_id']
        if user is not None:
            first[user] = min(first.get(user, event['timestamp']), event['timestamp'])
            if event['session_id'] is not None:
                sessions[user].add(event['session_id'])
    rows = [
        {
            'ReturningUsers.first_timestamp.minute': _stamp(moment),
            'ReturningUsers.first_timestamp': _stamp(moment),
            'ReturningUsers.sessionsCount': str(len(sessions[user])),
        }
        for user, moment in first.items()
        if RANGE_START <= moment < RANGE_END
    ]
    return sorted(rows, key=lambda row: row['ReturningUsers.first_timestamp'])


def sessions_totals(rows: list[dict]) -> dict:
    repeat = sum(row['Sessions.isFirst'] == 'false' for row in rows)
    return {
        'Sessions.count': len(rows),
        'Sessions.repeatCount': repeat,
        'Sessions.repeatPercent': 100 * repeat / len(rows),
    }


def users_totals(rows: list[dict]) -> dict:
    counts = [int(row['ReturningUsers.sessionsCount']) for row in rows]
    returning = [count for count in counts if count > 1]
    return {
        'ReturningUsers.count': len(counts),
        'ReturningUsers.returningUsersCount': len(returning),
        'ReturningUsers.allSessionsCount': sum(returning),
    }


# --- the product -----------------------------------------------------------------------------------------------

SESSIONS_RANGE = {'dimension': 'Sessions.startAt', 'dateRange': RANGE}
USERS_RANGE = {'dimension': 'ReturningUsers.first_timestamp', 'dateRange': RANGE}


class Lake(NamedTuple):
    engine: DuckDBEngine
    now: datetime


def _data(lake: Lake, query: dict) -> list[dict]:
    return load(query, '1', lake.engine, now=lake.now)['data']


def product_sessions(lake: Lake) -> list[dict]:
    """A session by its start (to the minute, as the events are) and user: its id is a primary key, which Cube
    hides."""
    query = {
        'dimensions': ['Sessions.userId', 'Sessions.isFirst', 'Sessions.nextStartAt'],
        'timeDimensions': [{**SESSIONS_RANGE, 'granularity': 'minute'}],
        'order': {'Sessions.startAt': 'asc'},
    }
    return _data(lake, query)


def product_sessions_totals(lake: Lake) -> dict:
    query = {
        'measures': ['Sessions.count', 'Sessions.repeatCount', 'Sessions.repeatPercent'],
        'timeDimensions': [SESSIONS_RANGE],
    }
    [row] = _data(lake, query)
    return {name: float(value) if name.endswith('Percent') else int(value) for name, value in row.items()}


def product_users(lake: Lake) -> list[dict]:
    """A user by the minute first seen (each a different one here): the id is a primary key, which Cube hides."""
    query = {
        'dimensions': ['ReturningUsers.sessionsCount'],
        'timeDimensions': [{**USERS_RANGE, 'granularity': 'minute'}],
        'order': {'ReturningUsers.first_timestamp': 'asc'},
    }
    return _data(lake, query)


def product_users_totals(lake: Lake) -> dict:
    query = {
        'measures': ['ReturningUsers.count', 'ReturningUsers.returningUsersCount', 'ReturningUsers.allSessionsCount'],
        'timeDimensions': [USERS_RANGE],
    }
    [row] = _data(lake, query)
    return {name: int(value) for name, value in row.items()}


# --- the lake states -------------------------------------------------------------------------------------------


def _without_index_of(*days: str) -> Callable:
    def remove(root) -> None:
        for day in days:
            path = root / user_sessions_key('usage', '1', date.fromisoformat(day))
            path.unlink()  # it was there: the state differs from a full index

    return remove


STATES = {
    'full-index': (True, lambda root: None, NOW),
    'no-index': (False, lambda root: None, NOW),
    'index-behind-today-and-yesterday': (True, _without_index_of(*RECENT_DAYS), NOW_IN_RANGE),
}


@pytest.fixture(scope='module', params=list(STATES))
def lake(request, tmp_path_factory):
    with_index, change, now = STATES[request.param]
    root = tmp_path_factory.mktemp(f'lake-{request.param}')
    write_lake(root, EVENTS, user_sessions=with_index)
    change(root)
    engine = DuckDBEngine(str(root))
    assert (engine.user_sessions_source('1') is not None) == with_index
    yield Lake(engine, now)
    engine.close()


@pytest.fixture(scope='module')
def lagging_lake(tmp_path_factory):
    """The rollup has not indexed the late day yet (a back-dated event of a day before yesterday, or a lake not
    backfilled after an upgrade)."""
    root = tmp_path_factory.mktemp('lake-late-day-not-indexed')
    write_lake(root, EVENTS)
    _without_index_of(LATE_DAY)(root)
    engine = DuckDBEngine(str(root))
    yield Lake(engine, NOW)
    engine.close()


EXPECTED_SESSIONS = reference_sessions(EVENTS, EVENTS)
EXPECTED_USERS = reference_users(EVENTS)


def _places(rows: list[dict]) -> dict[str, tuple]:
    """Each session's (user, is first, next start) by its start."""
    return {
        row['Sessions.startAt'][:16]: (row['Sessions.userId'], row['Sessions.isFirst'], row['Sessions.nextStartAt'])
        for row in rows
    }


def _counts(rows: list[dict]) -> dict[str, str]:
    """Each user's session count by the minute the user was first seen."""
    return {row['ReturningUsers.first_timestamp'][:16]: row['ReturningUsers.sessionsCount'] for row in rows}


def test_the_reference_sees_the_history_the_events_were_made_for():
    """The hand-made history matters: a range-only answer would differ from the reference on most of these."""
    assert _places(EXPECTED_SESSIONS) == {
        '2024-05-06T09:00': (None, 'true', '2024-05-07T09:00:00.000'),  # n2: anonymous, next the next anonymous
        '2024-05-06T10:00': ('u1', 'false', '2024-05-12T08:00:00.000'),  # a2: first in April, next after the margin
        '2024-05-06T12:00': ('u5', 'false', None),  # e1: u5 signed in midway; a session in March
        '2024-05-06T15:00': ('u4', 'false', None),  # d1: u4's first started the day before the range
        '2024-05-07T09:00': (None, 'true', '2024-05-12T09:00:00.000'),  # n3
        '2024-05-07T11:00': ('u2', 'true', '2024-05-09T11:00:00.000'),  # b1: next in the margin day
        '2024-05-07T16:00': ('u6', 'true', None),  # f1: u6's, the smaller id of the two
        '2024-05-07T23:50': ('u3', 'false', '2024-05-08T12:00:00.000'),  # c2: crosses midnight
        '2024-05-08T12:00': ('u3', 'false', None),  # c3
        '2024-05-08T18:00': ('u9', 'true', '2024-05-12T18:00:00.000'),  # h1
        '2024-05-08T23:50': ('u10', 'true', None),  # i1: crosses midnight out of the range
    }
    assert _counts(EXPECTED_USERS) == {
        '2024-05-07T08:00': '1',  # u8: events without a session, then one session after the range
        '2024-05-07T11:00': '3',  # u2: two sessions after the range
        '2024-05-07T16:00': '1',  # u6: the shared session
        '2024-05-08T18:00': '2',  # u9: the next session on the late day
        '2024-05-08T23:50': '1',  # u10
    }


def test_sessions_in_a_range_are_placed_in_their_users_whole_history(lake):
    assert product_sessions(lake) == EXPECTED_SESSIONS


def test_repeat_sessions_in_a_range_count_the_sessions_before_it(lake):
    totals = product_sessions_totals(lake)

    assert totals == pytest.approx(sessions_totals(EXPECTED_SESSIONS))
    assert totals['Sessions.repeatCount'] == 5


def test_users_first_seen_in_a_range_count_their_sessions_after_it(lake):
    assert product_users(lake) == EXPECTED_USERS


def test_returning_users_of_a_range_count_their_sessions_after_it(lake):
    assert product_users_totals(lake) == users_totals(EXPECTED_USERS)


def test_a_day_after_the_range_not_indexed_yet_is_missing_from_the_history_until_the_rollup_indexes_it(
    lagging_lake,
):
    """What the rollup has not indexed beyond the range's reach is not seen yet: the next sessions and session
    counts are those of a history without that day's sessions; whatever the range's own events say is right."""
    indexed = [event for event in EVENTS if event['timestamp'].strftime('%Y-%m-%d') != LATE_DAY]
    lagging_sessions = reference_sessions(indexed, EVENTS)
    lagging_users = reference_users(indexed)

    assert product_sessions(lagging_lake) == lagging_sessions
    assert product_sessions_totals(lagging_lake) == pytest.approx(sessions_totals(EXPECTED_SESSIONS))
    assert product_users(lagging_lake) == lagging_users
    assert product_users_totals(lagging_lake) == users_totals(lagging_users)
    # only the next start of the sessions followed on that day, and the count of the users with one then, lag
    lagging, full = _places(lagging_sessions), _places(EXPECTED_SESSIONS)
    assert {start: place for start, place in lagging.items() if full[start] != place} == {
        '2024-05-06T10:00': ('u1', 'false', '2024-05-20T08:00:00.000'),  # a2: u1's session after the late day
        '2024-05-07T09:00': (None, 'true', '2024-05-20T09:00:00.000'),  # n3: the anonymous one after it
        '2024-05-08T18:00': ('u9', 'true', None),  # h1: u9's only other session is that day's
    }
    lagging_counts, full_counts = _counts(lagging_users), _counts(EXPECTED_USERS)
    assert {first: n for first, n in lagging_counts.items() if full_counts[first] != n} == {'2024-05-08T18:00': '1'}
