"""User status (insights mapping §5, API §5): the daily status job and the status counts answer.

- The job (daily, after midnight UTC): every `active` user, not deleted, whose last event of any kind is more than
  DORMANCY_DAYS old becomes `dormant`, a status change at the job's time (logic.user_directory.with_dormancy);
  then each project's status counts at the day's UTC midnight are kept as a daily snapshot (the aggregates
  table, `<project>/user-status`, `<day>`), the same counts as the route's point at that midnight. Idempotent:
  a user made dormant is no longer active, and a snapshot is computed from the history, not from the run's
  time. One lock keeps two runs from overlapping. By hand, `{project_id, dates}` writes those days' snapshots.
- The answer (`user_status_counts`): Coder's GetUserStatusCounts over the history items and deletions.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.logic.job_lock import job_lock
from serverless_analytics.logic.user_directory import DirectoryEntry, iso_ms, update_user, with_dormancy
from serverless_analytics.models.insights import (
    DAY_SECONDS,
    GetUserStatusCountsResponse,
    UserStatus,
    UserStatusChangeCount,
)
from serverless_analytics.models.scheduled import ScheduledRequest
from serverless_analytics.observability import logger

JOB = 'user-status'
LOCK_SECONDS = 900  # the function's timeout: a run that died lets the next one in after it
RESERVE_SECONDS = 30.0  # no user is made dormant with less time left (the next run does it)
WINDOW_DAYS = 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- The history --------------------------------------------------------------------------------------------------


class StatusChange(BaseModel):
    """A history item: the user's status from `changed_at` on."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    new_status: UserStatus
    changed_at: AwareDatetime
    n: str = ''  # orders changes of one instant (their key's last part)


class UserDeletion(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    deleted_at: AwareDatetime


class StatusHistory(NamedTuple):
    changes: list[StatusChange]
    deletions: list[UserDeletion]


def status_history(project_id: str, settings: Settings) -> StatusHistory:
    """A project's status changes and deletions (two Queries of the users table)."""
    table = settings.USERS_TABLE
    changes = [
        StatusChange.model_validate(item) for item in dynamodb.query_user_items(table, project_id, dynamodb.STATUS)
    ]
    deletions = [
        UserDeletion.model_validate(item) for item in dynamodb.query_user_items(table, project_id, dynamodb.DELETED)
    ]
    return StatusHistory(changes, deletions)


# --- The answer ---------------------------------------------------------------------------------------------------


def next_full_hour(now: datetime) -> datetime:
    """Go's `now.Truncate(time.Hour).Add(time.Hour)`: truncation of absolute (UTC) time."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def status_points(
    now: datetime, tz_offset: int = 0, timezone: tzinfo | None = None, interval_seconds: int = DAY_SECONDS
) -> list[datetime]:
    """The instants counted: from the midnight 60 days before the day of the next full hour, every
    `interval_seconds` (one day when <= 0) up to that hour, both ends included.

    `tz_offset`: midnights in FixedZone(tz_offset hours), east-positive, as Coder's server computes them.
    `timezone`: the zone's local midnights, stepping its wall clock (a DST day is 23 or 25 hours long; a midnight
    that does not exist is the instant the day starts)."""
    end = next_full_hour(now)
    step = timedelta(seconds=interval_seconds if interval_seconds > 0 else DAY_SECONDS)
    if timezone is None:
        start = _fixed_zone_midnight(end, tz_offset * 3600) - timedelta(days=WINDOW_DAYS)
        return [start + step * k for k in range((end - start) // step + 1)]
    local_end = end.astimezone(timezone).replace(tzinfo=None)
    wall = datetime.combine(local_end.date() - timedelta(days=WINDOW_DAYS), time())
    points = []
    while wall <= local_end:
        points.append(wall.replace(tzinfo=timezone).astimezone(UTC))
        wall += step
    return points


def _fixed_zone_midnight(moment: datetime, offset_seconds: int) -> datetime:
    """The start of `moment`'s day in a zone `offset_seconds` east of UTC, in integers (Coder's tz_offset has no
    bound, and a datetime of the local time would leave datetime's range)."""
    seconds = int((moment - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - (seconds + offset_seconds) % DAY_SECONDS)


def user_status_counts(
    history: Sequence[StatusChange],
    deletions: Sequence[UserDeletion],
    now: datetime,
    tz_offset: int = 0,
    timezone: tzinfo | None = None,
    interval_seconds: int = DAY_SECONDS,
) -> dict[str, Any]:
    """Coder's `GET /insights/user-status-counts` body: at each point, each user under the status of its latest
    change at or before it, unless deleted at or before it; every status of the relevant changes (Coder's: those
    before the window of users not deleted before it, and those up to the next full hour not after the user's
    deletion) has a count at every point, 0 included; keys in alphabetical order, dates in UTC."""
    points = status_points(now, tz_offset, timezone, interval_seconds)
    deleted = _deletion_times(deletions)
    statuses = sorted(_relevant_statuses(history, deleted, points[0], next_full_hour(now)))
    counted = list(zip(points, counts_at(history, deleted, points), strict=True)) if statuses else []
    answer = GetUserStatusCountsResponse(
        status_counts={
            status: [UserStatusChangeCount(date=point, count=counts[status]) for point, counts in counted]
            for status in statuses
        }
    )
    return answer.model_dump(mode='json')


def _deletion_times(deletions: Iterable[UserDeletion]) -> dict[str, datetime]:
    deleted: dict[str, datetime] = {}
    for deletion in deletions:
        deleted[deletion.user_id] = min(deletion.deleted_at, deleted.get(deletion.user_id, deletion.deleted_at))
    return deleted


def _relevant_statuses(
    history: Iterable[StatusChange], deleted: dict[str, datetime], start: datetime, end: datetime
) -> set[UserStatus]:
    statuses = set()
    for change in history:
        deleted_at = deleted.get(change.user_id)
        if change.changed_at < start:
            relevant = deleted_at is None or deleted_at >= start
        else:
            relevant = change.changed_at <= end and (deleted_at is None or deleted_at >= change.changed_at)
        if relevant:
            statuses.add(change.new_status)
    return statuses


def counts_at(
    history: Iterable[StatusChange], deleted: dict[str, datetime], points: Sequence[datetime]
) -> list[Counter[UserStatus]]:
    """The users per status at each point (ascending), in one pass over the changes and deletions in time order."""
    moments = sorted(
        [(change.changed_at, 0, change.n, change.user_id, change.new_status) for change in history]
        + [(at, 1, '', user_id, None) for user_id, at in deleted.items()],
        key=lambda moment: moment[:4],
    )
    current: dict[str, UserStatus] = {}
    gone: set[str] = set()
    counts: Counter[UserStatus] = Counter()
    answer = []
    index = 0
    for point in points:
        while index < len(moments) and moments[index][0] <= point:
            _, _, _, user_id, status = moments[index]
            index += 1
            if user_id in gone:
                continue
            if user_id in current:
                counts[current.pop(user_id)] -= 1
            if status is None:
                gone.add(user_id)
            else:
                current[user_id] = status
                counts[status] += 1
        answer.append(counts.copy())
    return answer


# --- The daily job ------------------------------------------------------------------------------------------------


class UserStatusRequest(ScheduledRequest):
    """By default (the schedule's event): dormancy, then today's snapshots. By hand: one project's snapshots of the
    days named (a backfill), without dormancy."""


class UserStatusResult(BaseModel):
    skipped: bool = False  # another run held the lock
    users_checked: int = 0
    users_made_dormant: int = 0
    users_left: int = 0  # to make dormant, not reached before the function's time ran short
    snapshots_written: int = 0


def update_user_status(
    request: UserStatusRequest, settings: Settings, seconds_left: Callable[[], float]
) -> UserStatusResult:
    """Run the job under its lock (see the module's docstring)."""
    now = clock.now()
    with job_lock(settings.ROLLUP_STATE_TABLE, JOB, now, LOCK_SECONDS) as held:
        if not held:
            logger.info('Another user status run holds the lock')
            return UserStatusResult(skipped=True)
        result = UserStatusResult()
        if request.by_hand:
            assert request.project_id is not None and request.dates is not None  # by_hand says both are given
            days = {request.project_id: request.dates}
        else:
            projects = mark_dormant_users(settings, now, seconds_left, result)
            days = {project_id: [now.date()] for project_id in sorted(projects)}
        for project_id, dates in days.items():
            result.snapshots_written += write_snapshots(project_id, dates, settings)
        return result


def mark_dormant_users(
    settings: Settings, now: datetime, seconds_left: Callable[[], float], result: UserStatusResult
) -> set[str]:
    """Make every idle active user dormant; returns the projects that have users."""
    idle_since = now - timedelta(days=settings.DORMANCY_DAYS)

    def dormant(entry: DirectoryEntry | None) -> DirectoryEntry | None:
        return with_dormancy(entry, now, idle_since) if entry is not None else None

    projects = set()
    for item in dynamodb.scan_user_entries(settings.USERS_TABLE):
        project_id = item['pk']
        projects.add(project_id)
        result.users_checked += 1
        if dormant(DirectoryEntry.model_validate(item)) is None:
            continue
        if seconds_left() < RESERVE_SECONDS:
            result.users_left += 1
            continue
        if update_user(settings.USERS_TABLE, project_id, item['user_id'], item, dormant):
            result.users_made_dormant += 1
    logger.info('Dormancy checked', extra=result.model_dump())
    return projects


def write_snapshots(project_id: str, days: Iterable[date], settings: Settings) -> int:
    """Each day's status counts at its UTC midnight, all statuses listed; returns the number written."""
    history = status_history(project_id, settings)
    deleted = _deletion_times(history.deletions)
    midnights = sorted(datetime.combine(day, time(), tzinfo=UTC) for day in set(days))
    for midnight, counts in zip(midnights, counts_at(history.changes, deleted, midnights), strict=True):
        everyone = {status.value: counts[status] for status in UserStatus}
        dynamodb.put_user_status_snapshot(
            settings.AGGREGATES_TABLE, project_id, midnight.date().isoformat(), iso_ms(midnight), everyone
        )
    return len(midnights)
