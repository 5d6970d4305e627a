"""The user directory and status history (insights mapping §1, §5), kept batch by batch by the events stream's
consumer of its own (logic.update_user_directory).

Per (project, user) the directory entry holds the latest username and avatar (each from the latest event by
timestamp that carries one), first and last seen (any event), the status and the deletion time. The status
history is derived from the user's timeline, as Coder's trigger records it (a change only when the status
differs):
- the first event creates the user `active`, unless it is a `user.created` or `user.status_changed`, which sets
  its own status (`properties.status`, `active` when absent);
- `user.created` and `user.status_changed` set their status at their time; `user.deleted` ends the timeline (the
  earliest one; later events no longer change the status);
- any other event (activity) of a `dormant` user makes it `active` at that event's time;
- the status job's dormancy (`logic.user_status`) makes an `active` user `dormant` at the job's time; a late event
  between its cutoff and that time shows the user was not idle, and takes it back.

Ongoing activity is kept to the hour, as Coder updates a session's last use at most once an hour: `last_seen`,
`username_at` and `avatar_at` are the hour of their event, and of the last hour's activity the entry keeps the
first. So a user's events within an hour they have already been seen in change nothing, and the consumer writes the
entry about once per user and hour, not once per batch (agent reports every 30 s are 120 events an hour). Of two
values in one hour, the greater is kept (so that the order they come in does not matter): a rename shows at the
latest with the user's first event of a later hour; and dormancy compares with the cutoff's hour.

Every fact is kept with its time and event id, and the history is derived again from all of them on each change,
so batches in any order, late events and redeliveries give the same directory and history: a history item's key
is `status/<user>/<changed_at>/<rank>-<event id>`, the rank ordering moments of one millisecond as they are
applied (creation, activity, status event, dormancy). Activity is the one fact not kept whole (a user sends
thousands of events): the entry keeps the first and last activity, each activity that reactivated the user and
the first activity after each status fact. So a `dormant` status event that arrives after later activity, none
of it kept, is left until the next kept activity, where in-order delivery would have reactivated the user at
the first one.

Writes: one conditional put per (project, user) and batch when the entry changes (about hourly, above) (a read first: one BatchGetItem
key), a transaction when history items change too; concurrent writers of one user (two shards) meet on the
entry's version and the loser merges again.
"""

import json
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.models.errors import ServiceUnavailableError
from serverless_analytics.models.insights import UserStatus

if TYPE_CHECKING:
    import pyarrow as pa

CREATED = 'user.created'
STATUS_CHANGED = 'user.status_changed'
DELETED = 'user.deleted'
USER_EVENTS = frozenset({CREATED, STATUS_CHANGED, DELETED})

# The lake columns the directory reads (taken alone from a batch's rows: the others are most of their bytes).
USER_COLUMNS = ('user_id', 'event_id', 'name', 'timestamp', 'username', 'avatar_url', 'properties')

# How moments of one millisecond are ordered (and the first digit of a history item's `n`).
CREATION, ACTIVITY, STATUS_EVENT, DORMANCY = 0, 1, 2, 3
DORMANCY_ID = 'dormancy'
WRITE_ATTEMPTS = 8
# Writes in flight per batch: one conditional put per user, ~5 ms each, so a batch of 1,000 users takes 0.5 s
# rather than 5 (botocore's default connection pool holds 10).
WRITERS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLIS = {'s': 1000, 'ms': 1, 'us': 1 / 1000, 'ns': 1 / 1_000_000}


def iso_ms(moment: datetime) -> str:
    """A UTC time as the table stores it: sortable text to the millisecond, `2026-11-22T13:05:00.000Z`."""
    moment = moment.astimezone(UTC)
    return f'{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z'


def hour_of(at: str) -> str:
    """The hour of an `iso_ms` time, in the same form: `2026-11-22T13:00:00.000Z`."""
    return at[:13] + ':00:00.000Z'


class UserEvent(NamedTuple):
    """What the directory reads of one event (a NamedTuple: made per event on the consumer's path)."""

    event_id: str
    name: str
    at: str  # iso_ms
    username: str | None
    avatar_url: str | None
    status: UserStatus | None  # what a user.created / user.status_changed sets; None for any other event

    @property
    def rank(self) -> int:
        return STATUS_EVENT if self.status is not None else ACTIVITY

    @property
    def is_activity(self) -> bool:
        return self.name not in USER_EVENTS


# The parts of an entry are NamedTuples (the consumer makes thousands per batch; pydantic validates them from the
# stored item all the same), stored as lists: `[at, id]`, not `{"at": ..., "id": ...}`.


class Moment(NamedTuple):
    """An event of the user's timeline: its time and id."""

    at: str
    id: str


class StatusFact(NamedTuple):
    """A status set at a time: by a user.created / user.status_changed event, or by the status job (`cutoff`: the
    job's idle limit; an event between it and `at` revokes the fact)."""

    at: str
    id: str
    status: UserStatus
    cutoff: str | None = None

    @property
    def rank(self) -> int:
        return DORMANCY if self.cutoff is not None else STATUS_EVENT


class HistoryEntry(NamedTuple):
    """A status change, stored as the item `status/<user>/<at>/<n>`."""

    at: str
    n: str  # `<rank>-<event id>`
    status: UserStatus


class DirectoryEntry(BaseModel):
    """The item `user/<id>`: what the routes show, and the facts the history is derived from."""

    model_config = ConfigDict(frozen=True, extra='ignore')

    user_id: str
    username: str | None = None
    username_at: str | None = None  # the time of the event that gave it
    avatar_url: str | None = None
    avatar_at: str | None = None
    first_seen: str
    first_event: Moment
    first_event_rank: int  # STATUS_EVENT when the first event set the status itself
    last_seen: str
    status: UserStatus
    status_at: str
    deleted_at: str | None = None
    deleted_by: str | None = None
    facts: tuple[StatusFact, ...] = ()
    activity: tuple[Moment, ...] = ()  # the activity kept (see the module's docstring)
    history: tuple[HistoryEntry, ...] = ()
    version: int = 0

    def item(self) -> dict[str, Any]:
        return self.model_dump(mode='json', exclude_none=True)


# --- Reading a batch --------------------------------------------------------------------------------------------


def user_events(rows: 'pa.Table') -> dict[str, list[UserEvent]]:
    """The events of lake rows (the file schema, or its USER_COLUMNS) that have a user, by user id.

    Columns read from their Arrow buffers, not by `to_pylist` (a Scalar per value), and times made text without a
    datetime per row: those cost ~4 µs a record, 40% of the stream writer's floor. No Arrow compute on the way: each call
    costs 5-100 µs whatever the rows, and most batches of a quiet stream hold a few events."""
    from serverless_analytics.lake import records as lake  # here, as pyarrow: the directory's readers need neither

    names = lake.strings(rows['name'])
    columns = zip(
        lake.strings(rows['user_id']),
        lake.strings(rows['event_id']),
        names,
        _times(rows),
        lake.strings(rows['username']),
        lake.strings(rows['avatar_url']),
        _statuses(rows, names),
        strict=True,
    )
    by_user: dict[str, list[UserEvent]] = defaultdict(list)
    for user_id, event_id, name, at, username, avatar_url, status in columns:
        if user_id:
            by_user[user_id].append(UserEvent(event_id, name, at, username, avatar_url, status))
    return by_user


def _times(rows: 'pa.Table') -> list[str]:
    """The rows' event times as `iso_ms` writes them: integers from Arrow, and the text of each distinct hour made
    once (pyarrow turns an aware timestamp into Python at ~20-130 µs a value; a datetime per row, ~2 µs)."""
    from serverless_analytics.lake import records as lake

    column = rows['timestamp']
    per_ms = _MILLIS[column.type.unit]
    hours: dict[int, str] = {}
    times = []
    for value in lake.int64s(column):
        hour, within = divmod(int(value * per_ms), 3_600_000)
        if hour not in hours:
            hours[hour] = f'{_EPOCH + timedelta(hours=hour):%Y-%m-%dT%H}'
        times.append(f'{hours[hour]}:{within // 60_000:02d}:{within // 1000 % 60:02d}.{within % 1000:03d}Z')
    return times


def _statuses(rows: 'pa.Table', names: Sequence[str | None]) -> list[UserStatus | None]:
    """The status each row's event sets (None but for a user.created or user.status_changed that sets one): only
    those rows' properties are read."""
    statuses: list[UserStatus | None] = [None] * len(names)
    status_rows = [row for row, name in enumerate(names) if name in (CREATED, STATUS_CHANGED)]
    if not status_rows:  # the common batch; and Arrow cannot take no rows by an empty (untyped) list
        return statuses
    for row, properties in zip(status_rows, rows['properties'].take(status_rows).to_pylist(), strict=True):
        statuses[row] = _status_set(properties)
    return statuses


def _status_set(properties: str | None) -> UserStatus | None:
    """The status a status event sets: `properties.status`, `active` when absent; None when not a status (then the
    event is an ordinary user event)."""
    try:
        value = json.loads(properties or '{}').get('status') or UserStatus.ACTIVE
        return UserStatus(value)
    except (ValueError, AttributeError, TypeError):
        return None


# --- Merging (pure) ---------------------------------------------------------------------------------------------


def merge(entry: DirectoryEntry | None, user_id: str, events: Sequence[UserEvent]) -> DirectoryEntry:
    """The entry after these events (any order, any of them already applied)."""
    first = min(events, key=_order)
    first_event, first_rank = Moment(first.at, first.event_id), first.rank
    if entry is not None and (entry.first_event.at, entry.first_event_rank, entry.first_event.id) <= _order(first):
        first_event, first_rank = entry.first_event, entry.first_event_rank
    username, username_at = _latest(
        (entry.username_at, entry.username) if entry else None, [(hour_of(e.at), e.username) for e in events]
    )
    avatar_url, avatar_at = _latest(
        (entry.avatar_at, entry.avatar_url) if entry else None, [(hour_of(e.at), e.avatar_url) for e in events]
    )
    deleted_at, deleted_by = _deletion(entry, events)
    facts = _facts(entry, events)
    known = {*(entry.activity if entry else ()), *(Moment(e.at, e.event_id) for e in events if e.is_activity)}
    history = derive_history(first_event, first_rank, facts, known, deleted_at)
    # Constructed without validation: every value is already of its field's type (this runs per user and batch).
    return DirectoryEntry.model_construct(
        user_id=user_id,
        username=username,
        username_at=username_at,
        avatar_url=avatar_url,
        avatar_at=avatar_at,
        first_seen=first_event.at,
        first_event=first_event,
        first_event_rank=first_rank,
        last_seen=max([hour_of(e.at) for e in events] + ([entry.last_seen] if entry else [])),
        status=history[-1].status,
        status_at=history[-1].at,
        deleted_at=deleted_at,
        deleted_by=deleted_by,
        facts=facts,
        activity=kept_activity(known, facts, history),
        history=tuple(history),
        version=entry.version if entry else 0,
    )


def with_dormancy(entry: DirectoryEntry, at: datetime, idle_since: datetime) -> DirectoryEntry | None:
    """The entry made `dormant` at `at`, if it is an `active` user not deleted and not seen since `idle_since`."""
    cutoff = iso_ms(idle_since)
    if entry.status != UserStatus.ACTIVE or entry.deleted_at is not None or entry.last_seen >= hour_of(cutoff):
        return None
    fact = StatusFact(iso_ms(at), DORMANCY_ID, UserStatus.DORMANT, cutoff)
    facts = tuple(sorted({*entry.facts, fact}, key=_fact_order))
    history = derive_history(entry.first_event, entry.first_event_rank, facts, set(entry.activity), None)
    return entry.model_copy(
        update={
            'facts': facts,
            'history': tuple(history),
            'status': history[-1].status,
            'status_at': history[-1].at,
            'activity': kept_activity(set(entry.activity), facts, history),
        }
    )


def _order(event: UserEvent) -> tuple[str, int, str]:
    return event.at, event.rank, event.event_id


def _fact_order(fact: StatusFact) -> tuple[str, int, str]:
    return fact.at, fact.rank, fact.id


def _latest(
    stored: tuple[str | None, str | None] | None, candidates: Iterable[tuple[str, str | None]]
) -> tuple[str | None, str | None]:
    """(value, time) of the latest (time, value) that has a value: the latest event carrying one (of two at one
    time, the greater value, so that the order they come in does not matter)."""
    latest = stored if stored is not None and stored[1] else None
    for at, value in candidates:
        if value and (latest is None or (at, value) > latest):
            latest = (at, value)
    return (latest[1], latest[0]) if latest else (None, None)


def _deletion(entry: DirectoryEntry | None, events: Sequence[UserEvent]) -> tuple[str | None, str | None]:
    deletions = [(e.at, e.event_id) for e in events if e.name == DELETED]
    if entry is not None and entry.deleted_at is not None and entry.deleted_by is not None:
        deletions.append((entry.deleted_at, entry.deleted_by))
    return min(deletions) if deletions else (None, None)


def _facts(entry: DirectoryEntry | None, events: Sequence[UserEvent]) -> tuple[StatusFact, ...]:
    """The stored facts, less any dormancy an event of this batch shows was wrong, plus the batch's status events."""
    kept = [
        fact
        for fact in (entry.facts if entry else ())
        if fact.cutoff is None or not any(fact.cutoff <= e.at <= fact.at for e in events)
    ]
    added = [StatusFact(e.at, e.event_id, e.status) for e in events if e.status is not None]
    return tuple(sorted({*kept, *added}, key=_fact_order))


def derive_history(
    first_event: Moment,
    first_rank: int,
    facts: Iterable[StatusFact],
    activity: Iterable[Moment],
    deleted_at: str | None,
) -> list[HistoryEntry]:
    """The status changes of a timeline: each moment in order, a change only when the status differs."""
    timeline: list[tuple[str, int, str, UserStatus | None]] = [
        *((fact.at, fact.rank, fact.id, fact.status) for fact in facts),
        *((moment.at, ACTIVITY, moment.id, None) for moment in activity),
    ]
    if first_rank != STATUS_EVENT:
        timeline.append((first_event.at, CREATION, first_event.id, UserStatus.ACTIVE))
    history: list[HistoryEntry] = []
    status: UserStatus | None = None
    for at, rank, event_id, sets in sorted(timeline):
        if deleted_at is not None and at > deleted_at:
            break
        new = _status_after(rank, sets, status)
        if new is not None and new != status:
            history.append(HistoryEntry(at, f'{rank}-{event_id}', new))
            status = new
    return history


def _status_after(rank: int, sets: UserStatus | None, status: UserStatus | None) -> UserStatus | None:
    if rank == ACTIVITY:
        return UserStatus.ACTIVE if status == UserStatus.DORMANT else None
    if rank == DORMANCY:
        return UserStatus.DORMANT if status == UserStatus.ACTIVE else None
    return sets


def kept_activity(
    known: set[Moment], facts: Iterable[StatusFact], history: Iterable[HistoryEntry]
) -> tuple[Moment, ...]:
    """The activity worth keeping: the first, the first of the last hour (not the last: a later event of that hour
    would change it), each that reactivated the user, and the first after each status fact (where a late dormant
    fact would reactivate the user)."""
    ordered = sorted(known)
    if not ordered:
        return ()
    last_hour = hour_of(ordered[-1].at)
    keep = {ordered[0], next(m for m in ordered if m.at >= last_hour)}
    reactivations = {(entry.at, entry.n) for entry in history}
    keep.update(m for m in ordered if (m.at, f'{ACTIVITY}-{m.id}') in reactivations)
    times = [m.at for m in ordered]
    for fact in facts:
        after = bisect_right(times, fact.at)
        if after < len(ordered):
            keep.add(ordered[after])
    return tuple(sorted(keep))


# --- Writing ----------------------------------------------------------------------------------------------------


def record_users(settings: Settings, project_id: str, rows: 'pa.Table', new_rows: Sequence[int]) -> None:
    """Bring the directory and history of the users of a batch's new events (`new_rows` of its lake rows) up to
    date: planned for every user at once, then written concurrently (the writes wait on the network)."""
    events = user_events(rows.select(USER_COLUMNS).take(new_rows)) if new_rows else {}
    if not events:
        return
    table = settings.USERS_TABLE
    writes = plan_writes(project_id, dynamodb.get_user_entries(table, project_id, events), events)
    with ThreadPoolExecutor(min(WRITERS, max(len(writes), 1))) as pool:
        done = [pool.submit(_write, table, write, _merging(write.entry['user_id'], events)) for write in writes]
    for future in done:
        future.result()  # raises the first failure: the batch is redelivered, and merging again is harmless


def plan_writes(
    project_id: str, stored: dict[str, dict[str, Any]], events: dict[str, list[UserEvent]]
) -> list[dynamodb.UserWrite]:
    """The writes of a batch: one per user whose entry the batch's events change (`stored`: the entries read)."""
    writes = []
    for user_id, batch in events.items():
        item = stored.get(user_id)
        if item is not None and unchanged_by_activity(item, user_id, batch):
            continue
        before = DirectoryEntry.model_validate(item) if item is not None else None
        after = merge(before, user_id, batch)
        if after != before:
            writes.append(user_write(project_id, before, after))
    return writes


def unchanged_by_activity(item: Mapping[str, Any], user_id: str, events: Sequence[UserEvent]) -> bool:
    """Whether merging `events` leaves the stored entry (`item`, as read) as it is, told on the item for the case of
    nearly every user in nearly every batch: activity of a user who has no status fact and is not deleted. For that
    case it is `merge` (the history is the creation alone, and no activity can reactivate anyone), at ~3 µs a user
    where validating the entry and merging took ~20 µs, once per user and batch. False for any other case, and for
    an item not as this module writes it: `merge` decides then."""
    if item.get('facts') or item.get('deleted_at') is not None or item.get('deleted_by') is not None:
        return False
    if item.get('user_id') != user_id:
        return False
    try:
        return (
            _creation_alone(item)
            and all(_event_changes_nothing(item, event) for event in events)
            and _activity_kept(item['activity'], events)
        )
    except (KeyError, TypeError, ValueError):  # a field missing, or of another type
        return False


def _creation_alone(item: Mapping[str, Any]) -> bool:
    """Whether the stored history and status are what `merge` derives for a user with no status fact, not deleted:
    the creation at the first event."""
    first_at, first_id = item['first_event']
    return (
        item['first_event_rank'] != STATUS_EVENT
        and item['first_seen'] == first_at
        and [tuple(change) for change in item['history']] == [(first_at, f'{CREATION}-{first_id}', UserStatus.ACTIVE)]
        and item['status'] == UserStatus.ACTIVE
        and item['status_at'] == first_at
    )


def _event_changes_nothing(item: Mapping[str, Any], event: UserEvent) -> bool:
    """Whether an activity event leaves the stored first event, last hour seen, username and avatar as they are."""
    if event.name in USER_EVENTS:
        return False
    first_at, first_id = item['first_event']
    hour = hour_of(event.at)
    return (
        (first_at, item['first_event_rank'], first_id) <= (event.at, ACTIVITY, event.event_id)
        and hour <= item['last_seen']
        and _latest_kept(item.get('username'), item.get('username_at'), hour, event.username)
        and _latest_kept(item.get('avatar_url'), item.get('avatar_at'), hour, event.avatar_url)
    )


def _latest_kept(value: str | None, at: str | None, hour: str, candidate: str | None) -> bool:
    """Whether `_latest` keeps the stored (at, value) against an event's value (in its hour; None: the event has
    none)."""
    if not value:
        return value is None and at is None and not candidate
    return not candidate or (hour, candidate) <= (at, value)


def _activity_kept(stored: Sequence[Sequence[str]], events: Sequence[UserEvent]) -> bool:
    """Whether `kept_activity` keeps the stored activity, for a user whose history is the creation alone (no
    reactivation, no status fact): the first activity, and the first of the last hour."""
    kept = [(at, event_id) for at, event_id in stored]
    ordered = sorted({*kept, *((event.at, event.event_id) for event in events)})
    last_hour = hour_of(ordered[-1][0])
    return sorted({ordered[0], next(m for m in ordered if m[0] >= last_hour)}) == kept


def _merging(user_id: str, events: dict[str, list[UserEvent]]) -> Callable[[DirectoryEntry | None], DirectoryEntry]:
    return lambda entry: merge(entry, user_id, events[user_id])


def _write(
    table: str, write: dynamodb.UserWrite, change: Callable[[DirectoryEntry | None], DirectoryEntry | None]
) -> None:
    """Write as planned; when another writer changed the entry meanwhile, read it again and merge once more."""
    if not dynamodb.write_user(table, write):
        user_id = write.entry['user_id']
        update_user(table, write.project_id, user_id, dynamodb.get_user_entry(table, write.project_id, user_id), change)


def update_user(
    table: str,
    project_id: str,
    user_id: str,
    item: dict[str, Any] | None,
    change: Callable[[DirectoryEntry | None], DirectoryEntry | None],
) -> bool:
    """Apply `change` to the stored entry (`item`, as read) and write the result if it differs, reading again and
    retrying while another writer changes the entry meanwhile; False when there was nothing to write."""
    for _ in range(WRITE_ATTEMPTS):
        before = DirectoryEntry.model_validate(item) if item is not None else None
        after = change(before)
        if after is None or after == before:
            return False
        if dynamodb.write_user(table, user_write(project_id, before, after)):
            return True
        item = dynamodb.get_user_entry(table, project_id, user_id)
    raise ServiceUnavailableError(f'The directory entry of user {user_id} kept changing while it was written')


def user_write(project_id: str, before: DirectoryEntry | None, after: DirectoryEntry) -> dynamodb.UserWrite:
    """The write taking the stored entry `before` to `after`: the history items that come and go, the deletion."""
    old = set(before.history) if before else set()
    new = set(after.history)
    puts = [_history_item(project_id, after.user_id, entry) for entry in sorted(new - old)]
    if after.deleted_at is not None and (before is None or before.deleted_at != after.deleted_at):
        puts.append(
            {
                **dynamodb.deleted_key(project_id, after.user_id),
                'user_id': after.user_id,
                'deleted_at': after.deleted_at,
                'event_id': after.deleted_by,
            }
        )
    deletes = [dynamodb.status_key(project_id, after.user_id, entry.at, entry.n) for entry in sorted(old - new)]
    entry = {**after.item(), 'version': after.version + 1}  # not a model copy: once per user written
    return dynamodb.UserWrite(project_id, entry, before.version if before else None, puts, deletes)


def _history_item(project_id: str, user_id: str, entry: HistoryEntry) -> dict[str, Any]:
    return {
        **dynamodb.status_key(project_id, user_id, entry.at, entry.n),
        'user_id': user_id,
        'changed_at': entry.at,
        'new_status': entry.status.value,
        'n': entry.n,
    }
