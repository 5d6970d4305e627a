"""What every scheduled job takes: EventBridge's envelope by default, or a project's days named by hand."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ProjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r'^[^/=]+$')]


class ScheduledRequest(BaseModel):
    """A scheduled job's input: nothing (the schedule's run), or `project_id` and/or `dates` given by hand. Other
    fields are ignored, because the scheduled run's event is EventBridge's envelope."""

    model_config = ConfigDict(extra='ignore', frozen=True)

    project_id: ProjectId | None = None
    dates: Annotated[list[date], Field(min_length=1, max_length=400)] | None = None

    @property
    def by_hand(self) -> bool:
        """A backfill: one project's days, both named."""
        return self.project_id is not None and self.dates is not None
