"""`POST /analytics/api/v1/traffic/event-counts`: events per name and period, every period present.

The engine counts per name and UTC day (the `dt` partition, so the query is the same in both dialects and
cheap); days are then added up into the requested periods here.
"""

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime

from serverless_analytics import clock
from serverless_analytics.config import Settings
from serverless_analytics.cube.target import Target
from serverless_analytics.engines import QueryEngine
from serverless_analytics.logic.export_periods import echo, period_bounds, period_starts, period_text, resolve_window
from serverless_analytics.logic.export_sql import EventSelection, daily_counts_sql
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.export import (
    CountEventsRequest,
    CountEventsResponse,
    NameCounts,
    PeriodCount,
    parse_gmt,
)


def count_events(
    project_id: str,
    request: CountEventsRequest,
    settings: Settings,
    now: datetime | None = None,
    engine: QueryEngine | None = None,
) -> CountEventsResponse:
    """The counts; names are the filter's, in its order, or else every name seen in the range, sorted."""
    window = resolve_window(request.start_date, request.end_date, now or clock.now())
    starts = period_starts(window, request.group_by_period)
    engine = engine or query_engine(settings)
    sql = daily_counts_sql(EventSelection.of(project_id, window, request.filters), Target.of(engine))
    result = engine.execute(sql, timeout=settings.EXPORT_QUERY_TIMEOUT_SECONDS)
    counts = _per_period(result.rows, starts)
    names = request.filters.name or sorted(counts)
    bounds = period_bounds(window, starts)
    return CountEventsResponse(
        start_date=echo(window.start),
        end_date=echo(window.end),
        group_by_period=request.group_by_period,
        results=[NameCounts(name=name, periods=_periods(bounds, counts.get(name, {}))) for name in names],
    )


def _per_period(rows: list[tuple], starts: list[datetime]) -> dict[str, dict[int, int]]:
    """(name, dt, count) rows to counts by name and period index."""
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for name, dt, count in rows:
        day = parse_gmt(dt)  # the dt partition: YYYY-MM-DD
        # the window's first day may start before the window does; its events all belong to the first period
        index = bisect_right(starts, max(day, starts[0])) - 1
        counts[name][index] += int(count)
    return counts


def _periods(bounds: list[tuple[datetime, datetime]], counts: dict[int, int]) -> list[PeriodCount]:
    return [
        PeriodCount(
            period_start_date=period_text(start), period_end_date=period_text(end), event_count=counts.get(i, 0)
        )
        for i, (start, end) in enumerate(bounds)
    ]
