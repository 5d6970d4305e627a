"""An independent, plain-Python evaluation of Cube queries over the generated events.

Written from the spec's operator table and Cube's documented semantics, without importing the compiler:
it is the oracle the differential tests compare the SQL path against.
"""

import json
from datetime import date, datetime, timedelta
from functools import cmp_to_key
from zoneinfo import ZoneInfo

from tests.differential.lake import NOW

STRING_DIMENSIONS = {
    'TrackedEvents.eventName': lambda e: e['name'],
    'TrackedEvents.event': lambda e: e['category'],
    'TrackedEvents.pageUrlpath': lambda e: e['page_path'],
    'TrackedEvents.docPath': lambda e: e['page_path'],
    'TrackedEvents.pageTitle': lambda e: e['page_title'],
    'TrackedEvents.agentName': lambda e: e['browser_family'],
    'TrackedEvents.osFamily': lambda e: e['os_family'],
    'TrackedEvents.userId': lambda e: e['user_id'],
    'TrackedEvents.viewportSize': lambda e: _properties(e).get('viewport_size'),
}
_PARSED: dict[str, dict] = {}


def _properties(event: dict) -> dict:
    if event['event_id'] not in _PARSED:
        _PARSED[event['event_id']] = json.loads(event['properties'])
    return _PARSED[event['event_id']]


TIME_DIMENSIONS = ('TrackedEvents.derivedTstamp', 'TrackedEvents.utcTime')
MEASURES = {
    'TrackedEvents.count': lambda rows: len(rows),
    'TrackedEvents.uniqueUsersCount': lambda rows: len({r['user_id'] for r in rows if r['user_id'] is not None}),
    'TrackedEvents.uniqueSessionsCount': lambda rows: len({r['session_id'] for r in rows if r['session_id']}),
    'TrackedEvents.pageViewsCount': lambda rows: sum(1 for r in rows if r['category'] == 'page_view'),
    'TrackedEvents.linkClicksCount': lambda rows: sum(1 for r in rows if r['name'] == 'link_click'),
}
RELATIVE_RANGES = (
    'today',
    'yesterday',
    'last 7 days',
    'last 3 days',
    'this week',
    'last week',
    'this month',
    'last month',
    'from 10 days ago to now',
    'this quarter',
    'Last 2 weeks',
)


def local_today(tz: str) -> date:
    return NOW.astimezone(ZoneInfo(tz)).date()


def relative_days(expression: str, tz: str) -> tuple[date, date]:
    """The first and last local day of the relative ranges the generator uses, computed by hand."""
    today = local_today(tz)
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    previous_month_end = first_of_month - timedelta(days=1)
    quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    quarter_end = (
        quarter_start.replace(month=quarter_start.month + 3) if quarter_start.month < 10 else date(today.year + 1, 1, 1)
    ) - timedelta(days=1)
    next_month = (first_of_month + timedelta(days=32)).replace(day=1)
    return {
        'today': (today, today),
        'yesterday': (today - timedelta(days=1), today - timedelta(days=1)),
        'last 7 days': (today - timedelta(days=7), today - timedelta(days=1)),
        'last 3 days': (today - timedelta(days=3), today - timedelta(days=1)),
        'this week': (monday, monday + timedelta(days=6)),
        'last week': (monday - timedelta(days=7), monday - timedelta(days=1)),
        'this month': (first_of_month, next_month - timedelta(days=1)),
        'last month': (previous_month_end.replace(day=1), previous_month_end),
        'from 10 days ago to now': (today - timedelta(days=10), today),
        'this quarter': (quarter_start, quarter_end),
        'last 2 weeks': (monday - timedelta(days=14), monday - timedelta(days=1)),
    }[expression.lower()]


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime(first.year, first.month, first.day), datetime(last.year, last.month, last.day, 23, 59, 59, 999000)


def range_bounds(date_range, tz: str) -> tuple[datetime, datetime]:
    if isinstance(date_range, str):
        return day_bounds(*relative_days(date_range, tz))
    first, last = (date_range * 2)[:2]
    return day_bounds(date.fromisoformat(first), date.fromisoformat(last))


def local_time(event: dict, tz: str) -> datetime:
    return event['timestamp'].astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def bucket(value: datetime, granularity: str) -> str:
    if granularity == 'hour':
        start = value.replace(minute=0, second=0, microsecond=0)
    else:
        start = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == 'week':
        start -= timedelta(days=start.weekday())
    elif granularity == 'month':
        start = start.replace(day=1)
    elif granularity == 'quarter':
        start = start.replace(day=1, month=(start.month - 1) // 3 * 3 + 1)
    elif granularity == 'year':
        start = start.replace(day=1, month=1)
    return start.strftime('%Y-%m-%dT%H:%M:%S.000')


def string_predicate(operator: str, values: list, cell) -> bool:
    """Spec §1.3 for a string column: equality is exact, like-operators ignore case, NULL rules per operator."""
    present = [v for v in values if v is not None]
    has_null = len(present) < len(values)
    if operator in ('equals', 'in'):
        return cell in present or (has_null and cell is None)
    if operator in ('notEquals', 'notIn'):
        if not present:
            return cell is not None
        return (cell is not None and cell not in present) or (cell is None and not has_null)
    if operator == 'set':
        return cell is not None
    if operator == 'notSet':
        return cell is None
    if operator in ('gt', 'gte', 'lt', 'lte'):
        if cell is None:
            return False
        v = values[0]
        return {'gt': cell > v, 'gte': cell >= v, 'lt': cell < v, 'lte': cell <= v}[operator]
    positive = operator[3].lower() + operator[4:] if operator.startswith('not') else operator
    test = {
        'contains': lambda c, v: v.lower() in c.lower(),
        'startsWith': lambda c, v: c.lower().startswith(v.lower()),
        'endsWith': lambda c, v: c.lower().endswith(v.lower()),
    }[positive]
    if operator.startswith('not'):
        return (cell is not None and all(not test(cell, v) for v in present)) or (cell is None and not has_null)
    return (cell is not None and any(test(cell, v) for v in present)) or (cell is None and has_null)


def date_predicate(operator: str, values: list, local: datetime, tz: str) -> bool:
    if operator == 'inDateRange':
        low, high = range_bounds(values if len(values) == 2 else values[0], tz)
        return low <= local <= high
    if operator == 'notInDateRange':
        low, high = range_bounds(values, tz)
        return local < low or local > high
    midnight = datetime.fromisoformat(values[0])
    return {
        'beforeDate': local < midnight,
        'afterDate': local > midnight,
        'afterOrOnDate': local >= midnight,
        'beforeOrOnDate': local <= midnight,
    }[operator]


def row_passes(event: dict, item: dict, tz: str) -> bool:
    if 'or' in item:
        return any(row_passes(event, child, tz) for child in item['or'])
    if 'and' in item:
        return all(row_passes(event, child, tz) for child in item['and'])
    member = item.get('member') or item['dimension']
    values = [None if v is None else str(v) for v in item.get('values', [])]
    if member in TIME_DIMENSIONS:
        return date_predicate(item['operator'], values, local_time(event, tz), tz)
    return string_predicate(item['operator'], values, STRING_DIMENSIONS[member](event))


def evaluate(events: list[dict], project: str, query: dict) -> list[dict]:
    """All result rows (unordered, no limit) with Cube's row keys and string-encoded numbers."""
    tz = query.get('timezone', 'UTC')
    rows = [e for e in events if e['project_id'] == project and _where(e, query, tz)]
    granular = [td for td in query.get('timeDimensions', []) if td.get('granularity')]
    dims = query.get('dimensions', [])
    groups: dict[tuple, list] = {}
    for event in rows:
        key = tuple(STRING_DIMENSIONS[d](event) for d in dims)
        key += tuple(bucket(local_time(event, tz), td['granularity']) for td in granular)
        groups.setdefault(key, []).append(event)
    if not dims and not granular:
        groups = {(): rows}
    out = []
    for key, members in groups.items():
        row = dict(zip(dims, key, strict=False))
        for td, value in zip(granular, key[len(dims) :], strict=True):
            row[f'{td["dimension"]}.{td["granularity"]}'] = value
            row[td['dimension']] = value
        for measure in query.get('measures', []):
            row[measure] = str(MEASURES[measure](members))
        if _having(row, query):
            out.append(row)
    return out


def _where(event: dict, query: dict, tz: str) -> bool:
    if 'TrackedEvents.knownUsers' in query.get('segments', []) and event['user_id'] is None:
        return False
    for td in query.get('timeDimensions', []):
        if 'dateRange' in td:
            low, high = range_bounds(td['dateRange'], tz)
            if not low <= local_time(event, tz) <= high:
                return False
    return all(row_passes(event, f, tz) for f in query.get('filters', []) if not _is_measure_filter(f))


def _is_measure_filter(item: dict) -> bool:
    return (item.get('member') or '') in MEASURES


def _having(row: dict, query: dict) -> bool:
    for item in query.get('filters', []):
        if _is_measure_filter(item):
            value, limit = int(row[item['member']]), float(item['values'][0])
            ok = {
                'gt': value > limit,
                'gte': value >= limit,
                'lt': value < limit,
                'lte': value <= limit,
                'equals': value == limit,
            }[item['operator']]
            if not ok:
                return False
    return True


def effective_order(query: dict) -> list[tuple[str, bool]]:
    """Explicit order, else Cube's default order (spec §1.4), as (row key, descending)."""
    order = query.get('order')
    pairs = list(order.items()) if isinstance(order, dict) else [tuple(p) for p in order or []]
    granular = [td for td in query.get('timeDimensions', []) if td.get('granularity')]
    if not pairs:
        if granular:
            pairs = [(granular[0]['dimension'], 'asc')]
        elif query.get('measures') and query.get('dimensions'):
            pairs = [(query['measures'][0], 'desc')]
        elif query.get('dimensions'):
            pairs = [(query['dimensions'][0], 'asc')]
    keys = []
    for member, direction in pairs:
        td = next((t for t in granular if t['dimension'] == member), None)
        key = f'{member}.{td["granularity"]}' if td else member
        if key in query.get('measures', []) or key in query.get('dimensions', []) or td:
            keys.append((key, direction == 'desc'))
    return keys


def sort_rows(rows: list[dict], order: list[tuple[str, bool]], measures: list[str]) -> list[dict]:
    """Rows in `order`, NULLs last in both directions (the engines' default)."""

    def compare(a: dict, b: dict) -> int:
        for key, desc in order:
            x, y = a.get(key), b.get(key)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            if key in measures:
                x, y = int(x), int(y)
            result = -1 if x < y else 1
            return -result if desc else result
        return 0

    return sorted(rows, key=cmp_to_key(compare))


def order_projection(rows: list[dict], order: list[tuple[str, bool]]) -> list[tuple]:
    return [tuple(row.get(key) for key, _ in order) for row in rows]
