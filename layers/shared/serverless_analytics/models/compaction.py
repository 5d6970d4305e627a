"""The lake compaction job's input and result (a scheduled function, also run by hand)."""

from pydantic import BaseModel

from serverless_analytics.models.scheduled import ScheduledRequest


class CompactionRequest(ScheduledRequest):
    """What to compact: every partition of the lake by default; by hand, one project and/or some UTC days."""

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
