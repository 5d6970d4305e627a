"""The user-session index (issue 15): a day's (session, user) pairs with their first event time, against a plain
Python reference over seeded events (null sessions, null users, both null, events outside the day, sessions with
several events and with two users); its object key, and its schema."""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from serverless_analytics.lake.schema import FILE_SCHEMA, TIMESTAMP
from serverless_analytics.logic.user_sessions import SCHEMA, user_session_pairs, user_sessions_key

START = datetime(2026, 11, 22, tzinfo=UTC)
END = START + timedelta(days=1)
MS = timedelta(milliseconds=1)

Pair = tuple[str | None, str | None]


def events_table(rows: list[dict]) -> pa.Table:
    """Lake rows (every other column null), as the rollup reads them."""
    return pa.Table.from_pylist(rows, schema=FILE_SCHEMA)


def row(at: datetime, session: str | None, user: str | None) -> dict:
    return {'event_id': f'e-{at.isoformat()}-{session}-{user}', 'timestamp': at, 'session_id': session, 'user_id': user}


def generated(seed: int) -> list[dict]:
    """Sessions of 1–6 events within 3 hours, from a day before the day to a day after it: some anonymous, some
    without a session, some neither, some switching user midway (a sign-in), and events on both edges of the day."""
    rng = random.Random(seed)
    users = [f'u{i}' for i in range(6)]
    rows = []
    for number in range(120):
        session = f's{number % 90}' if rng.random() > 0.15 else None  # some session ids reused by a second visit
        user = rng.choice(users) if rng.random() > 0.25 else None
        start = START + timedelta(milliseconds=rng.randrange(-86_400_000, 2 * 86_400_000))
        for _ in range(rng.randint(1, 6)):
            at = start + timedelta(milliseconds=rng.randrange(3 * 3_600_000))
            if rng.random() < 0.1:
                user = rng.choice([*users, None])
            rows.append(row(at, session, user))
    rows += [row(START, 'edge-start', 'u0'), row(END - MS, 'edge-end', None), row(END, 'edge-after', 'u1')]
    rows += [row(START - MS, 'edge-before', 'u2'), row(START + MS, None, None)]
    rng.shuffle(rows)
    return rows


def reference(rows: list[dict], start: datetime, end: datetime) -> dict[Pair, datetime]:
    """Per (session, user) of the events in [start, end), both not null at once, its earliest event time."""
    first: dict[Pair, datetime] = {}
    for event in rows:
        pair = (event['session_id'], event['user_id'])
        if start <= event['timestamp'] < end and pair != (None, None):
            first[pair] = min(first.get(pair, event['timestamp']), event['timestamp'])
    return first


def product(rows: list[dict], start: datetime = START, end: datetime = END) -> dict[Pair, datetime]:
    table = user_session_pairs(events_table(rows), start, end)
    pairs = [((r['session_id'], r['user_id']), r['first_at']) for r in table.to_pylist()]
    found = dict(pairs)
    assert len(found) == len(pairs), 'a pair has one row'
    return found


@pytest.mark.parametrize('seed', range(6))
def test_the_days_pairs_are_those_of_a_plain_reference(seed):
    rows = generated(seed)
    expected = reference(rows, START, END)

    found = product(rows)

    assert found == expected
    # the generated day has each kind of pair, so the comparison says something about each
    assert any(s and u for s, u in found) and any(s and not u for s, u in found) and any(u and not s for s, u in found)
    by_session = defaultdict(set)
    for session, user in found:
        by_session[session].add(user)
    assert any(len(users) > 1 for session, users in by_session.items() if session)


def test_a_pair_is_kept_per_user_of_a_session_with_the_first_time_of_each():
    nine = START + timedelta(hours=9)
    rows = [
        row(nine + 5 * MS, 's1', None),  # before the sign-in
        row(nine, 's1', None),
        row(nine + timedelta(minutes=3), 's1', 'u1'),
        row(nine + timedelta(minutes=2), 's1', 'u1'),
        row(nine + timedelta(minutes=9), 's1', 'u2'),  # another user on the same device
        row(nine + timedelta(hours=1), None, 'u1'),  # a server-side event: no session
        row(nine + timedelta(hours=2), None, None),  # says nothing about either
        row(START - MS, 's0', 'u1'),  # the day before
        row(START, 's2', 'u3'),  # the day's first instant
        row(END - MS, 's3', 'u3'),  # the day's last
        row(END, 's4', 'u3'),  # the next day
    ]

    assert product(rows) == {
        ('s1', None): nine,
        ('s1', 'u1'): nine + timedelta(minutes=2),
        ('s1', 'u2'): nine + timedelta(minutes=9),
        (None, 'u1'): nine + timedelta(hours=1),
        ('s2', 'u3'): START,
        ('s3', 'u3'): END - MS,
    }


def test_a_session_crossing_midnight_has_a_pair_in_each_day():
    rows = [row(START - timedelta(minutes=10), 's1', 'u1'), row(START + timedelta(minutes=10), 's1', 'u1')]

    assert product(rows, START - timedelta(days=1), START) == {('s1', 'u1'): START - timedelta(minutes=10)}
    assert product(rows) == {('s1', 'u1'): START + timedelta(minutes=10)}


def test_the_index_columns_are_session_user_and_first_time_in_that_order():
    table = user_session_pairs(events_table(generated(0)), START, END)

    assert table.schema == SCHEMA
    assert table.schema.names == ['session_id', 'user_id', 'first_at']
    assert [field.type for field in table.schema] == [pa.string(), pa.string(), TIMESTAMP]


@pytest.mark.parametrize(
    'rows',
    [[], [row(START - MS, 's1', 'u1'), row(END, 's1', 'u1')], [row(START, None, None)]],
    ids=['no-events', 'none-in-the-day', 'neither-session-nor-user'],
)
def test_a_day_without_pairs_is_an_empty_table_with_the_schema(rows):
    table = user_session_pairs(events_table(rows), START, END)

    assert (table.num_rows, table.schema) == (0, SCHEMA)


def test_the_same_events_in_another_order_give_the_same_table():
    rows = generated(3)
    shuffled = list(rows)
    random.Random(1).shuffle(shuffled)

    assert user_session_pairs(events_table(shuffled), START, END).equals(
        user_session_pairs(events_table(rows), START, END)
    )


def test_a_days_index_has_one_object_in_the_projects_own_folder():
    assert user_sessions_key('usage', '42', date(2024, 5, 6)) == 'usage/project_id=42/user_sessions/2024-05-06.parquet'
    assert user_sessions_key('rollup/usage', 'p-1', date(2026, 1, 31)) == (
        'rollup/usage/project_id=p-1/user_sessions/2026-01-31.parquet'
    )
