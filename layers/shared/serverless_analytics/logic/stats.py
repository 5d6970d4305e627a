"""Per-project figures for `GET /api/v1/analytics/stats`, read from the stream writer's counters."""

from datetime import datetime

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.logic import counters
from serverless_analytics.models.api import BufferStatus, StatsResponse


def project_stats(project_id: str, settings: Settings, now: datetime | None = None) -> StatsResponse:
    """Totals count events by their (corrected) event time; today and this hour are UTC."""
    now = now or clock.now()
    today, this_hour = counters.day_key(now), counters.hour_key(now)
    items = dynamodb.get_counters(
        settings.COUNTERS_TABLE, project_id, [counters.TOTAL, today, this_hour, counters.PIPELINE]
    )
    total = items.get(counters.TOTAL, {})
    pipeline = items.get(counters.PIPELINE, {})
    written = int(total.get('events', 0))
    # Every accepted event is written once or counted once as a duplicate (quarantined records were never
    # accepted by the API), so what is neither is still on the stream.
    pending = max(int(pipeline.get('accepted', 0)) - written - int(pipeline.get('duplicates', 0)), 0)
    by_category = {
        name.removeprefix(counters.CATEGORY_PREFIX): int(value)
        for name, value in sorted(total.items())
        if name.startswith(counters.CATEGORY_PREFIX) and value
    }
    return StatsResponse(
        total_events=written,
        events_by_category=by_category,
        events_today=int(items.get(today, {}).get('events', 0)),
        events_this_hour=int(items.get(this_hour, {}).get('events', 0)),
        buffer_status=BufferStatus(
            buffer_size=pending,
            max_buffer_size=settings.STREAM_BATCH_SIZE,
            flush_interval_seconds=settings.STREAM_BATCHING_WINDOW_SECONDS,
            last_flush=pipeline.get('last_flush'),
            events_pending=pending,
            events_flushed_total=written,
        ),
    )
