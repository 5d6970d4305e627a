"""The usage rollup's input and result (a scheduled function, also run by hand for a backfill)."""

from pydantic import BaseModel

from serverless_analytics.models.scheduled import ScheduledRequest


class UsageRollupRequest(ScheduledRequest):
    """What to recompute: by default every (project, day) that received events since the last run; by hand, one
    project's days (a backfill), whether or not they received events."""


class UsageRollupResult(BaseModel):
    skipped: bool = False  # another run held the lock: it does this run's work
    days_recomputed: int = 0
    days_left: int = 0  # not reached before the function's time ran short; the next run goes on
    buckets_written: int = 0
