"""The usage rollup (DESIGN §5, insights mapping §2): the 30-minute usage buckets of every (project, UTC day) that
received events since its last run are recomputed from the lake, so late and back-dated events count.

- Which days: the stream writer marks each (project, day) a batch wrote to; a run recomputes each marked day and
  the day after it (an app session started on one day reaches into the next), then forgets the mark unless a
  batch marked it again meanwhile. A run by hand recomputes the days it names (a backfill).
- Idempotent: a day's buckets are one object, `usage/project_id=<p>/dt=<day>/buckets.parquet`, written whole
  from the day's and the day before's events, so a re-run, a late run or a second run writes the same object.
  Overlapping scheduled runs would only repeat work, and one lock (expiring with the function's timeout) keeps
  a second one from starting.
- Each recomputed day's active users (all, and per template) go to the aggregates table, which the DAU routes
  read instead of buckets or events.
- Each recomputed day's (session, user) pairs are written whole to the user-session index (logic.user_sessions),
  which the Sessions and ReturningUsers cubes read for a user's history beyond a query's date range.
- Each recomputed day's builds are merged into its project's app catalogue (logic.app_catalogue), read and written
  once per project and run, under the lock: the template insights read it instead of every builds file ever.
"""

import io
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb, s3
from serverless_analytics.config import Settings
from serverless_analytics.lake.schema import FILE_SCHEMA
from serverless_analytics.logic.app_catalogue import catalogue_key, merged_catalogue
from serverless_analytics.logic.job_lock import job_lock
from serverless_analytics.logic.usage_buckets import usage_buckets
from serverless_analytics.logic.user_sessions import user_session_pairs, user_sessions_key
from serverless_analytics.logic.workspace_builds import builds_key, workspace_builds
from serverless_analytics.models.usage import UsageRollupRequest, UsageRollupResult
from serverless_analytics.observability import logger

JOB = 'usage-rollup'
LOCK_SECONDS = 900  # the function's timeout: a run that died lets the next one in after it


def roll_up_usage(
    request: UsageRollupRequest, settings: Settings, seconds_left: Callable[[], float]
) -> UsageRollupResult:
    """Recompute the days the request selects while time is left, holding the job's lock."""
    now = clock.now()
    with job_lock(settings.ROLLUP_STATE_TABLE, JOB, now, LOCK_SECONDS) as held:
        if not held:
            logger.info("Another usage rollup holds the lock; it does this run's work")
            return UsageRollupResult(skipped=True)
        return _roll_up(request, settings, seconds_left, now.date())


def _roll_up(
    request: UsageRollupRequest, settings: Settings, seconds_left: Callable[[], float], today: date
) -> UsageRollupResult:
    if request.by_hand:
        assert request.project_id is not None and request.dates is not None  # by_hand says both are given
        marks: list[dynamodb.TouchedPartition] = []
        days = {(request.project_id, day) for day in request.dates}
    else:
        marks = dynamodb.touched_partitions(settings.ROLLUP_STATE_TABLE)
        days = _days_to_recompute(marks, today)
    result = UsageRollupResult()
    todo = sorted(days)
    for project_id, project_days in groupby(todo, key=lambda project_day: project_day[0]):
        if not _roll_up_project(project_id, [day for _, day in project_days], settings, seconds_left, result):
            result.days_left = len(todo) - result.days_recomputed
            logger.warning('Time ran short; the next run goes on', extra={'left': result.days_left})
            return result  # the marks stay: the next run recomputes these days again
    for mark in marks:
        dynamodb.clear_touched(settings.ROLLUP_STATE_TABLE, mark)
    return result


def _days_to_recompute(marks: Iterable[dynamodb.TouchedPartition], today: date) -> set[tuple[str, date]]:
    days = set()
    for mark in marks:
        day = date.fromisoformat(mark.day)
        days.add((mark.project_id, day))
        if day < today:
            days.add((mark.project_id, day + timedelta(days=1)))
    return days


def _roll_up_project(
    project_id: str,
    days: list[date],
    settings: Settings,
    seconds_left: Callable[[], float],
    result: UsageRollupResult,
) -> bool:
    """Recompute the project's days while time is left, then merge the builds of those recomputed into its app
    catalogue; False when time ran short."""
    builds = []
    for day in days:
        if seconds_left() < settings.USAGE_ROLLUP_RESERVE_SECONDS:
            break
        recomputed = recompute_day(project_id, day, settings)
        builds.append(recomputed.builds)
        result.buckets_written += recomputed.buckets
        result.days_recomputed += 1
    if builds:
        merge_into_catalogue(project_id, builds, settings)
    return len(builds) == len(days)


class RecomputedDay(NamedTuple):
    buckets: int  # how many were written
    builds: pa.Table  # the day's builds, as written


def recompute_day(project_id: str, day: date, settings: Settings) -> RecomputedDay:
    """Write the day's buckets, builds, user-session pairs and active users anew."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    events = _lake_rows(project_id, [day - timedelta(days=1), day], settings)
    buckets = usage_buckets(events, start, end)
    s3.put_object(settings.LAKE_BUCKET, bucket_key(settings.USAGE_PREFIX, project_id, day), _parquet(buckets))
    builds = workspace_builds(events, start, end)
    s3.put_object(settings.LAKE_BUCKET, builds_key(settings.USAGE_PREFIX, project_id, day), _parquet(builds))
    pairs = user_session_pairs(events, start, end)
    s3.put_object(settings.LAKE_BUCKET, user_sessions_key(settings.USAGE_PREFIX, project_id, day), _parquet(pairs))
    everyone, by_template = _active_users(buckets)
    dynamodb.put_daily_active_users(settings.AGGREGATES_TABLE, project_id, day.isoformat(), everyone, by_template)
    logger.info('Recomputed usage', extra={'project_id': project_id, 'day': day.isoformat(), 'buckets': len(buckets)})
    return RecomputedDay(len(buckets), builds)


def merge_into_catalogue(project_id: str, builds: list[pa.Table], settings: Settings) -> None:
    """Merge days' builds into the project's app catalogue: one read and one write of a small object. Only a run
    holding the lock calls this, so no other run writes the catalogue between the read and the write."""
    key = catalogue_key(settings.USAGE_PREFIX, project_id)
    stored = s3.get_object_if_any(settings.LAKE_BUCKET, key)
    if stored is None:
        # A lake from before the catalogue (or a project's first rollup): the catalogue is built once from every
        # builds file the project has, the days just written included; from then on, days are only merged in.
        builds = _every_build(project_id, settings)
        logger.info('Building the app catalogue from every build', extra={'project_id': project_id})
    catalogue = merged_catalogue(None if stored is None else pq.read_table(io.BytesIO(stored)), builds)
    s3.put_object(settings.LAKE_BUCKET, key, _parquet(catalogue))


def _every_build(project_id: str, settings: Settings) -> list[pa.Table]:
    folder = f'{settings.USAGE_PREFIX}/project_id={project_id}/'
    return [
        pq.read_table(io.BytesIO(s3.get_object(settings.LAKE_BUCKET, stored.key)))
        for stored in s3.list_objects(settings.LAKE_BUCKET, folder)
        if stored.key.endswith('/builds.parquet')
    ]


def bucket_key(prefix: str, project_id: str, day: date) -> str:
    return f'{prefix}/project_id={project_id}/dt={day.isoformat()}/buckets.parquet'


def _lake_rows(project_id: str, days: list[date], settings: Settings) -> pa.Table:
    tables = [
        pq.read_table(io.BytesIO(s3.get_object(settings.LAKE_BUCKET, stored.key))).select(FILE_SCHEMA.names)
        for day in days
        for stored in s3.list_objects(settings.LAKE_BUCKET, f'{settings.LAKE_PREFIX}/project_id={project_id}/dt={day}/')
    ]
    return pa.concat_tables([t.cast(FILE_SCHEMA) for t in tables]) if tables else FILE_SCHEMA.empty_table()


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression='zstd')
    return sink.getvalue()


def _active_users(buckets: pa.Table) -> tuple[int, dict[str, int]]:
    """Distinct users of the day, and per template (Coder's DAU: a user with at least one bucket)."""
    users: set[str] = set()
    by_template: dict[str, set[str]] = {}
    for template_id, user_id in zip(
        buckets.column('template_id').to_pylist(), buckets.column('user_id').to_pylist(), strict=True
    ):
        users.add(user_id)
        if template_id is not None:
            by_template.setdefault(template_id, set()).add(user_id)
    return len(users), {template_id: len(members) for template_id, members in sorted(by_template.items())}
