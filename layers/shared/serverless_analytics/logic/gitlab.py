"""What GitLab's proxy does to a load response before its client sees it (`Gitlab::CubeJs::DataTransformer`).

For each `inDateRange` filter on M, when the query has a measure and the rows carry `M.day`, every day of
the range without a row is appended (unsorted, as GitLab does) with each measure `"0"`, from the range's first
day on, until the result holds as many rows as the query's `limit`.

GitLab itself fills the whole range whatever the limit; we stop at the limit. A range shorter than the limit
(GitLab's dashboards send `limit: 100` with their 7/30/90-day ranges) is filled exactly as GitLab fills it. A
longer one has already been cut by the limit: the days past the cut are not known to be empty, so GitLab's
zeros there would be made up, and 1000-01-01 to 2026-12-31 would make 375,000 of them (49.5 MB, past what a
Lambda may answer). A response therefore never holds more rows than its client asked for (at most
`MAX_LIMIT`, 50,000, per result).
"""

from datetime import date, timedelta
from typing import Any

from serverless_analytics.cube.limits import DEFAULT_LIMIT


def fill_date_gaps(query: Any, body: dict) -> dict:
    """Append GitLab's zero rows to each result of `body`, up to each result's limit."""
    if not isinstance(query, dict) or not query.get('measures'):
        return body
    for result in body.get('results') or []:
        limit = (result.get('query') or {}).get('limit', DEFAULT_LIMIT)
        for member, first, last in _day_ranges(query):
            _fill(result.get('data') or [], member, first, last, query['measures'], limit)
    return body


def _day_ranges(query: dict):
    """(member, first day, last day) of each top-level inDateRange filter with two dates, as GitLab reads them."""
    for item in query.get('filters') or []:
        if not isinstance(item, dict) or item.get('operator') != 'inDateRange':
            continue
        values = item.get('values')
        bounds = [_day(v) for v in values[:2]] if isinstance(values, list) and len(values) >= 2 else [None]
        if None not in bounds:
            yield item.get('member') or item.get('dimension'), *bounds


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        return None


def _fill(data: list[dict], member: str, first: date, last: date, measures: list[str], limit: int) -> None:
    day_key = f'{member}.day'
    if not data or day_key not in data[0]:
        return
    present = {row.get(member) for row in data}
    # Each day tried is either present (at most len(data) of them) or appended: the loop ends within 2 * limit.
    for offset in range((last - first).days + 1):
        if len(data) >= limit:
            return
        day = f'{(first + timedelta(days=offset)).isoformat()}T00:00:00.000'
        if day not in present:
            data.append({day_key: day, member: day, **dict.fromkeys(measures, '0')})
