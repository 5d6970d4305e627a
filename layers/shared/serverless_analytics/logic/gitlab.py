"""What GitLab's proxy does to a load response before its client sees it (`Gitlab::CubeJs::DataTransformer`).

For each `inDateRange` filter on M, when the query has a measure and the rows carry `M.day`, every day of
the range without a row is appended (unsorted, as GitLab does) with each measure `"0"`.
"""

from datetime import date, timedelta
from typing import Any


def _days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first[:10]), date.fromisoformat(last[:10])
    return [f'{start + timedelta(days=n):%Y-%m-%d}T00:00:00.000' for n in range((end - start).days + 1)]


def _fill(data: list[dict], member: str, values: list[str], measures: list[str]) -> None:
    day_key = f'{member}.day'
    if not data or day_key not in data[0] or len(values) < 2:
        return
    present = {row.get(member) for row in data}
    for day in _days(values[0], values[1]):
        if day not in present:
            data.append({day_key: day, member: day, **dict.fromkeys(measures, '0')})


def fill_date_gaps(query: Any, body: dict) -> dict:
    if not isinstance(query, dict) or not query.get('measures'):
        return body
    ranges = [f for f in query.get('filters') or [] if isinstance(f, dict) and f.get('operator') == 'inDateRange']
    for result in body.get('results') or []:
        for date_filter in ranges:
            member = date_filter.get('member') or date_filter.get('dimension')
            _fill(result.get('data') or [], member, date_filter.get('values') or [], query['measures'])
    return body
