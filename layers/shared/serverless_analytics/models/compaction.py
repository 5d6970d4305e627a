"""The lake compaction job's input and result (a scheduled function, also run by hand)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ProjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r'^[^/=]+$')]


class CompactionRequest(BaseModel):
    """What to compact: every partition of the lake by default; by hand, one project and/or some UTC days.

    Other fields are ignored, because the scheduled run's event is EventBridge's envelope."""

    model_config = ConfigDict(extra='ignore', frozen=True)

    project_id: ProjectId | None = None
    dates: Annotated[list[date], Field(min_length=1, max_length=400)] | None = None

    def includes(self, project_id: str, dt: str) -> bool:
        return (self.project_id is None or project_id == self.project_id) and (
            self.dates is None or dt in {day.isoformat() for day in self.dates}
        )


class CompactionResult(BaseModel):
    partitions_compacted: int = 0
    partitions_failed: int = 0  # logged; the next run tries them again
    partitions_left: int = 0  # not reached before the function's time ran short; the next run goes on
    files_replaced: int = 0
    files_written: int = 0
    duplicates_dropped: int = 0
