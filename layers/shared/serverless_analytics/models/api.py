"""Response bodies of the ingestion API (seed contract)."""

from datetime import datetime

from pydantic import BaseModel


class TrackEventResponse(BaseModel):
    success: bool
    event_id: str
    message: str
    timestamp: datetime


class TrackBatchResponse(BaseModel):
    success: bool
    events_received: int
    events_queued: int
    events_failed: int
    message: str
    timestamp: datetime


class BufferStatus(BaseModel):
    """The pipeline's buffer is the Kinesis stream; these figures describe the stream writer draining it."""

    buffer_size: int  # events accepted and not yet written (the stream's backlog)
    max_buffer_size: int  # the stream writer's batch size
    flush_interval_seconds: int  # its maximum batching window
    last_flush: datetime | None
    events_pending: int
    events_flushed_total: int


class StatsResponse(BaseModel):
    total_events: int
    events_by_category: dict[str, int]
    events_today: int
    events_this_hour: int
    buffer_status: BufferStatus


class ComponentHealth(BaseModel):
    name: str
    healthy: bool
    detail: str


class HealthResponse(BaseModel):
    status: str
    timestamp: datetime
    components: list[ComponentHealth] = []  # empty for the liveness check, which looks at nothing else
