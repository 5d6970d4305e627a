"""`POST /analytics/api/v1/events`: one page of a project's events, in Fluid Topics' shape.

Paging: each page is one query, `ORDER BY timestamp, event_id LIMIT perPage OFFSET (page-1)*perPage` with
`count(*) OVER ()`, so the page and the total come from one scan of the window's partitions. Athena's result
reuse (the engine's setting) answers an identical repeated request without scanning again.
"""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from serverless_analytics import clock
from serverless_analytics.config import Settings
from serverless_analytics.cube.target import Target
from serverless_analytics.engines import QueryEngine, QueryResult
from serverless_analytics.logic.export_periods import echo, resolve_window
from serverless_analytics.logic.export_sql import TOTAL_COUNT, EventSelection, count_sql, events_page_sql
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.export import (
    EventsRequest,
    EventsResponse,
    ExportedEvent,
    ExportedUser,
    ExportRequestError,
    PagingRequest,
    PagingResponse,
    SortOrder,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROW_OVERHEAD_BYTES = 1024  # the JSON of an exported event without its parameters, generously


def export_events(
    project_id: str,
    request: EventsRequest,
    settings: Settings,
    now: datetime | None = None,
    engine: QueryEngine | None = None,
) -> EventsResponse:
    """The page (from this deployment's engine unless one is given); raises `ExportRequestError` for a request
    the export cannot answer."""
    window = resolve_window(request.start_date, request.end_date, now or clock.now())
    page, per_page = _paging(request, settings)
    engine = engine or query_engine(settings)
    target = Target.of(engine)
    selection = EventSelection.of(project_id, window, request.filters)
    newest_first = request.sort_order is SortOrder.LATEST_FIRST
    sql = events_page_sql(selection, target, newest_first, per_page, (page - 1) * per_page)
    # One time budget for the request's queries (the page, maybe a count): two full ones could outlast the function.
    deadline = time.monotonic() + settings.EXPORT_QUERY_TIMEOUT_SECONDS
    rows = _records(engine.execute(sql, timeout=settings.EXPORT_QUERY_TIMEOUT_SECONDS))
    _check_size(rows, settings)
    total = rows[0][TOTAL_COUNT] if rows else _total_without_rows(engine, selection, target, page, deadline)
    return EventsResponse(
        start_date=echo(window.start),
        end_date=echo(window.end),
        paging=PagingResponse(page=page, per_page=per_page, total_count=total, last_page=page * per_page >= total),
        results=[exported_event(row) for row in rows],
    )


def _paging(request: EventsRequest, settings: Settings) -> tuple[int, int]:
    if request.paging is None:
        first = PagingRequest.largest_first(settings)
        return first['page'], first['perPage']
    return request.paging.page, request.paging.per_page


def _records(result: QueryResult) -> list[dict[str, Any]]:
    names = [column.name.lower() for column in result.columns]
    return [dict(zip(names, row, strict=True)) for row in result.rows]


def _total_without_rows(
    engine: QueryEngine, selection: EventSelection, target: Target, page: int, deadline: float
) -> int:
    """An empty first page means no match; a page past the end has no row to carry the total, so count."""
    if page == 1:
        return 0
    remaining = deadline - time.monotonic()
    if remaining <= 0:  # not worth starting (and, on Athena, paying for) a count that cannot finish in time
        raise TimeoutError('The page query used up the time for the count')
    result = engine.execute(count_sql(selection, target), timeout=remaining)
    return int(result.rows[0][0]) if result.rows else 0


def _check_size(rows: list[dict[str, Any]], settings: Settings) -> None:
    estimate = sum(len(row['properties'] or '') + ROW_OVERHEAD_BYTES for row in rows)
    if estimate > settings.EXPORT_MAX_PAGE_BYTES:
        raise ExportRequestError(
            f'This page of {len(rows)} events is larger than a response may be; ask for a smaller perPage'
        )


def epoch_millis(moment: datetime) -> int:
    """Engines return aware (DuckDB) or naive UTC (Athena) datetimes."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(milliseconds=1)


def _string_list(value: Any) -> list[str]:
    """A list column: a list (DuckDB) or its JSON text (Athena), NULL as empty."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


def _parameters(text: str | None) -> dict[str, Any]:
    """The stored properties; a NaN or Infinity that ingestion let through before it refused them is answered as
    null, as `JSON.stringify` writes it, so the page stays valid JSON."""
    try:
        value = json.loads(text, parse_constant=_no_number) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _no_number(constant: str) -> None:
    return None


def exported_event(row: dict[str, Any]) -> ExportedEvent:
    """A lake row as FT shows an event; absent strings are "", as in FT's server-side events."""
    return ExportedEvent(
        app_name=row['app_name'] or '',
        app_version=row['app_version'] or '',
        content_locale=row['content_locale'] or '',
        datetime=epoch_millis(row['timestamp']),
        id=row['event_id'],
        name=row['name'],
        offline=bool(row['offline']),
        parameters=_parameters(row['properties']),
        session_id=row['session_id'] or '',
        tenant_id=row['tenant_id'] or '',
        ui_locale=row['ui_locale'] or '',
        user=ExportedUser(
            realm=_string_list(row['user_realm']),
            groups=_string_list(row['user_groups']),
            id=row['user_id'] or '',
            roles=_string_list(row['user_roles']),
        ),
        user_agent=row['user_agent'] or '',
        user_ip=row['user_ip'] or '',
    )
