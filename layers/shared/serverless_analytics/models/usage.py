"""The usage rollup's input and result (a scheduled function, also run by hand for a backfill)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from serverless_analytics.models.compaction import ProjectId


class UsageRollupRequest(BaseModel):
    """What to recompute: by default every (project, day) that received events since the last run; by hand, one
    project's days (a backfill), whether or not they received events. Other fields are ignored, because the
    scheduled run's event is EventBridge's envelope."""

    model_config = ConfigDict(extra='ignore', frozen=True)

    project_id: ProjectId | None = None
    dates: Annotated[list[date], Field(min_length=1, max_length=400)] | None = None

    @property
    def by_hand(self) -> bool:
        return self.project_id is not None and self.dates is not None


class UsageRollupResult(BaseModel):
    skipped: bool = False  # another run held the lock: it does this run's work
    days_recomputed: int = 0
    days_left: int = 0  # not reached before the function's time ran short; the next run goes on
    buckets_written: int = 0
