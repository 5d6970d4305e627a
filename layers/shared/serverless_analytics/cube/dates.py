"""Relative date ranges, resolved as Cube's gateway date parser does (spec §2), in the query timezone.

All range arithmetic runs on local wall-clock times of the query timezone, like moment-timezone: day and
larger units move the calendar, hour and smaller units move the instant. Results are wall-clock strings
`YYYY-MM-DDTHH:mm:ss.SSS` with no offset, exactly what Cube echoes in `dateRange`.
"""

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from serverless_analytics.cube.limits import MAX_DATE_EXPRESSION_CHARS
from serverless_analytics.models.errors import CubeQueryError

UNITS = ('second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year')
_UNIT_RE = '|'.join(UNITS)
_THIS_LAST_NEXT = re.compile(rf'(this|last|next)\s+({_UNIT_RE})')
_LAST_NEXT_N = re.compile(rf'(last|next)\s+(\d+)\s+({_UNIT_RE})')
_FROM_TO = re.compile(r'^from (.*) to (.*)$')
_DAY_WORDS = {'today': 0, 'yesterday': -1, 'tomorrow': 1}
_DATE_ONLY = re.compile(r'^\d{4}-\d{2}-\d{2}$')
_ISO = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$'
)
_SLASH_DATE = re.compile(r'^(\d{4})/(\d{1,2})/(\d{1,2})$|^(\d{1,2})/(\d{1,2})/(\d{4})$')
_NUMBER_WORDS = {'a': 1, 'an': 1, 'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7}
# chrono-node's English weekday names (Sunday 0, as JavaScript numbers days) and its weekday pattern.
_WEEKDAYS = {
    **dict.fromkeys(('sunday', 'sun'), 0),
    **dict.fromkeys(('monday', 'mon'), 1),
    **dict.fromkeys(('tuesday', 'tue', 'tues'), 2),
    **dict.fromkeys(('wednesday', 'wed'), 3),
    **dict.fromkeys(('thursday', 'thurs', 'thur', 'thu'), 4),
    **dict.fromkeys(('friday', 'fri'), 5),
    **dict.fromkeys(('saturday', 'sat'), 6),
}
_WEEKDAY = re.compile(
    r'^(?:on\s*)?(?:(this|last|past|next)\s+)?('
    + '|'.join(sorted(_WEEKDAYS, key=len, reverse=True))
    + r')\.?(?:\s+(this|last|past|next)\s*week)?$'
)
_LEADING_FROM = re.compile(r'^from\s+')
_AGO = re.compile(rf'^(\d+|a|an|one|two|three|four|five|six|seven)\s+({_UNIT_RE})s?\s+ago$')
_LATER = re.compile(
    rf'^(?:in\s+(\d+|a|an|one|two|three|four|five|six|seven)\s+({_UNIT_RE})s?|'
    rf'(\d+|a|an|one|two|three|four|five|six|seven)\s+({_UNIT_RE})s?\s+(?:from now|later))$'
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            'january',
            'february',
            'march',
            'april',
            'may',
            'june',
            'july',
            'august',
            'september',
            'october',
            'november',
            'december',
        )
    )
}
_MONTHS.update({name[:3]: num for name, num in list(_MONTHS.items())})
_MONTH_NAME = '|'.join(sorted(_MONTHS, key=len, reverse=True))
_MONTH_DAY_YEAR = re.compile(rf'^({_MONTH_NAME})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$')
_DAY_MONTH_YEAR = re.compile(rf'^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAME})\.?,?\s+(\d{{4}})$')
_CHRONO_RANGE = re.compile(r'^(.+?)\s+(?:-|to|until|till)\s+(.+)$')
# Every date is a Python datetime, so years 1–9999; the last millisecond is the latest wall-clock time.
LATEST = datetime.max.replace(microsecond=999000)
# Seconds in 10,000 years have 12 digits: a count with more is out of bounds whatever its unit (and `int()`
# of thousands of digits is itself slow, then refused).
_MAX_AMOUNT_DIGITS = 12


class _OutOfBounds(Exception):
    """Date arithmetic left years 1–9999; the public functions answer it with the date text the client sent."""


def out_of_bounds(text: str) -> CubeQueryError:
    return CubeQueryError(f"Date '{text}' is out of bounds: dates must be between 0001-01-01 and 9999-12-31")


def zone(tz: str) -> ZoneInfo:
    """The IANA zone `tz`; the caller has validated the name."""
    return ZoneInfo(tz)


def format_local(value: datetime) -> str:
    """Cube's wire format for a wall-clock time: `YYYY-MM-DDTHH:mm:ss.SSS`, milliseconds truncated."""
    return f'{format_day(value)}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}'


def format_day(value: datetime) -> str:
    """`YYYY-MM-DD`; unlike `strftime('%Y')`, the year keeps four digits before year 1000."""
    return f'{value.year:04d}-{value.month:02d}-{value.day:02d}'


def parse_local(text: str) -> datetime:
    """A wall-clock string as produced by `format_local` (or a date) back to a naive datetime."""
    return datetime.fromisoformat(text)


def local_to_utc(local: datetime, tz: str) -> datetime:
    """A naive wall-clock time of `tz` as a naive UTC time (the lake stores UTC instants).

    A time within hours of year 1 or 9999 may have no UTC time in datetime's range: it is clamped to the
    range's edge, which no stored event lies beyond, so a bound compared with it selects the same rows.
    """
    try:
        return local.replace(tzinfo=zone(tz)).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if local.year == datetime.min.year else LATEST


def shift_clamped(value: datetime, delta: timedelta) -> datetime:
    """`value + delta`, clamped to datetime's range instead of overflowing."""
    try:
        return value + delta
    except OverflowError:
        return datetime.min if delta < timedelta(0) else LATEST


def local_now(now: datetime, tz: str) -> datetime:
    """`now` (aware, or naive meaning UTC) as naive wall-clock time of `tz`."""
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz)).replace(tzinfo=None)


def start_of(value: datetime, unit: str) -> datetime:
    """moment's `startOf(unit)`, with ISO weeks (Monday)."""
    if unit == 'second':
        return value.replace(microsecond=0)
    if unit == 'minute':
        return value.replace(second=0, microsecond=0)
    if unit == 'hour':
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == 'day':
        return day
    if unit == 'week':
        return day - timedelta(days=day.weekday())
    if unit == 'month':
        return day.replace(day=1)
    if unit == 'quarter':
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    return day.replace(day=1, month=1)


def end_of(value: datetime, unit: str, tz: str = 'UTC') -> datetime:
    """moment's `endOf(unit)`: the last millisecond of the period (year 9999's last periods end at LATEST)."""
    start = start_of(value, unit)
    try:
        return add(start, unit, 1, tz) - timedelta(milliseconds=1)
    except _OutOfBounds:
        if start.year < datetime.max.year:
            raise
        return LATEST


def add(value: datetime, unit: str, amount: int, tz: str = 'UTC') -> datetime:
    """moment's `add(amount, unit)` on a wall-clock time of `tz`; `_OutOfBounds` past years 1–9999."""
    try:
        return _add(value, unit, amount, tz)
    except (OverflowError, ValueError) as error:  # timedelta, datetime + timedelta, replace(year=…), astimezone
        raise _OutOfBounds(error) from None


def _add(value: datetime, unit: str, amount: int, tz: str) -> datetime:
    if unit in ('second', 'minute', 'hour'):
        instant = value.replace(tzinfo=zone(tz)).astimezone(UTC)
        moved = instant + timedelta(**{f'{unit}s': amount})
        return moved.astimezone(zone(tz)).replace(tzinfo=None)
    if unit in ('day', 'week'):
        return value + timedelta(days=amount * (7 if unit == 'week' else 1))
    months = amount * {'month': 1, 'quarter': 3, 'year': 12}[unit]
    return _add_months(value, months)


def _add_months(value: datetime, months: int) -> datetime:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    next_month = datetime(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return value.replace(year=year, month=month + 1, day=min(value.day, last_day))


def parse_date_range(text: str, tz: str, now: datetime) -> list[str]:
    """Cube's `dateParser(dateString, timezone, now)`: a relative or absolute expression to a resolved range."""
    if len(text) > MAX_DATE_EXPRESSION_CHARS:
        raise CubeQueryError(
            f'Date expression is too long: {len(text)} characters; the maximum is {MAX_DATE_EXPRESSION_CHARS}'
        )
    current = local_now(now, tz)
    try:
        start, end = _parse_lowered(text, text.lower(), current, tz)
    except _OutOfBounds:
        raise out_of_bounds(text) from None
    return [format_local(start), format_local(end)]


def _parse_lowered(text: str, lowered: str, current: datetime, tz: str) -> tuple[datetime, datetime]:
    if match := _THIS_LAST_NEXT.search(lowered):
        shift = {'this': 0, 'last': -1, 'next': 1}[match.group(1)]
        unit = match.group(2)
        moved = add(current, unit, shift, tz)
        return start_of(moved, unit), end_of(moved, unit, tz)
    if match := _LAST_NEXT_N.search(lowered):
        amount, unit = _amount(match.group(2)), match.group(3)
        if match.group(1) == 'last':
            return start_of(add(current, unit, -amount, tz), unit), end_of(add(current, unit, -1, tz), unit, tz)
        return start_of(add(current, unit, 1, tz), unit), end_of(add(current, unit, amount, tz), unit, tz)
    for word, shift in _DAY_WORDS.items():
        if word in lowered:
            day = add(current, 'day', shift, tz)
            return start_of(day, 'day'), end_of(day, 'day', tz)
    unit = _snap_unit(lowered)
    if match := _FROM_TO.match(lowered):
        start = _parse_instant(match.group(1), current, tz, text)
        end = _parse_instant(match.group(2), current, tz, text)
        return start_of(start, unit), end_of(end, unit, tz)
    start, end = _parse_chrono(lowered.strip(), current, tz, text)
    return start_of(start, unit), end_of(end, unit, tz)


def _snap_unit(lowered: str) -> str:
    for unit in ('second', 'minute', 'hour'):
        if unit in lowered:
            return unit
    return 'day'


def _parse_chrono(lowered: str, current: datetime, tz: str, original: str) -> tuple[datetime, datetime]:
    """Branch 5: one expression, or a `X - Y` / `X to Y` range of two."""
    try:
        instant = _parse_instant(lowered, current, tz, original)
        return instant, instant
    except CubeQueryError:
        match = _CHRONO_RANGE.match(lowered)
        if not match:
            raise
        return _parse_instant(match.group(1), current, tz, original), _parse_instant(
            match.group(2), current, tz, original
        )


def _parse_instant(expr: str, current: datetime, tz: str, original: str) -> datetime:
    """A best-effort stand-in for chrono-node on one expression (spec §2: branch 5 is not exact in Python)."""
    expr = _LEADING_FROM.sub('', expr.strip())  # chrono finds `3 days ago` in `from 3 days ago`
    if expr == 'now':
        return current
    if expr in _DAY_WORDS:
        return add(current, 'day', _DAY_WORDS[expr], tz)
    if match := _AGO.match(expr):
        return add(current, match.group(2), -_amount(match.group(1)), tz)
    if match := _WEEKDAY.match(expr):
        return add(current, 'day', _days_to_weekday(current, match), tz)
    if match := _LATER.match(expr):
        amount, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        return add(current, unit, _amount(amount), tz)
    parsed = _parse_absolute(expr, tz)
    if parsed is None:
        raise CubeQueryError(f"Can't parse date: '{original}'")
    return parsed


def _days_to_weekday(current: datetime, match: re.Match) -> int:
    """chrono-node's `getDaysToWeekday`, with JavaScript's day numbers (Sunday 0): `last` is the latest one before
    today, `this` the next from today on, `next` the one of next week (from a weekend day, the coming one), and no
    word the closest."""
    modifier = {'past': 'last'}.get(match.group(1) or match.group(3) or '', match.group(1) or match.group(3) or '')
    weekday, today = _WEEKDAYS[match.group(2).rstrip('.')], (current.weekday() + 1) % 7
    forward, backward = (weekday - today) % 7, (weekday - today) % 7 - 7
    if modifier == 'this':
        return forward
    if modifier == 'last':
        return backward
    if modifier == 'next':
        if today == 0:
            return 7 if weekday == 0 else weekday
        if today == 6:
            return {6: 7, 0: 8}.get(weekday, 1 + weekday)
        return forward if 0 < weekday < today else forward + 7
    return forward if forward < -backward else backward


def _amount(word: str) -> int:
    if not word.isdigit():
        return _NUMBER_WORDS[word]
    if len(word.lstrip('0')) > _MAX_AMOUNT_DIGITS:
        raise _OutOfBounds(word)
    return int(word)


def _parse_absolute(expr: str, tz: str) -> datetime | None:
    try:
        if match := _ISO.match(expr):
            return _from_iso_match(match, tz)
        if match := _SLASH_DATE.match(expr):
            year, month, day = (
                match.group(1, 2, 3) if match.group(1) else (match.group(6), match.group(4), match.group(5))
            )
            return datetime(int(year), int(month), int(day))
        if match := _MONTH_DAY_YEAR.match(expr):
            return datetime(int(match.group(3)), _MONTHS[match.group(1)], int(match.group(2)))
        if match := _DAY_MONTH_YEAR.match(expr):
            return datetime(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
    except ValueError:
        return None
    return None


def _from_iso_match(match: re.Match, tz: str) -> datetime:
    """The matched date; ValueError for an impossible one (`2024-13-45`), `_OutOfBounds` when its offset moves
    it out of years 1–9999."""
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or '0').ljust(6, '0')[:6])
    value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    if offset is None:
        return value
    try:
        aware = value.replace(tzinfo=_offset_zone(offset))
        return aware.astimezone(zone(tz)).replace(tzinfo=None)
    except OverflowError as error:
        raise _OutOfBounds(error) from None


def _offset_zone(offset: str):
    if offset == 'z':
        return UTC
    digits = offset[1:].replace(':', '')
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return timezone(delta if offset[0] == '+' else -delta)


def normalize_range_item(item: str, index: int) -> str:
    """One item of an explicit `dateRange` array as Cube echoes it (spec §2, edge cases)."""
    if not isinstance(item, str):
        raise CubeQueryError(f"Can't parse date: '{item}'")
    match = _ISO.match(item.lower())
    if not match:
        raise CubeQueryError(f"Can't parse date: '{item}'")
    try:
        # moment.utc(d): no offset means UTC, an offset is converted to UTC.
        moment = _from_iso_match(match, 'UTC')
    except ValueError as error:
        raise CubeQueryError(f"Can't parse date: '{item}'") from error
    except _OutOfBounds:
        raise out_of_bounds(item) from None
    if _DATE_ONLY.match(item):
        return format_day(moment) + ('T00:00:00.000' if index == 0 else 'T23:59:59.999')
    return format_local(moment)


def filter_time(item: str, index: int, tz: str) -> datetime:
    """An absolute date filter value as a wall-clock time of `tz`. Cube hands filter values to the database in the
    query's time zone, so a value with `Z` or an offset is that instant whatever the zone (in a `dateRange` the
    offset only moves the wall-clock time, see `normalize_range_item`); a value without one is local."""
    local = parse_local(normalize_range_item(item, index))
    match = _ISO.match(item.lower())
    if match is None or match.group(8) is None:
        return local
    try:
        # `fold` survives dropping the zone, so local_to_utc gives this instant back in a DST change's repeated hour.
        return local.replace(tzinfo=UTC).astimezone(zone(tz)).replace(tzinfo=None)
    except OverflowError:
        return local


def resolve_date_range(value: str | list, tz: str, now: datetime) -> list[str]:
    """A `dateRange` (string or 1–2 item array) as the resolved, padded pair Cube echoes."""
    if isinstance(value, str):
        return parse_date_range(value, tz, now)
    items = list(value) if len(value) == 2 else [value[0], value[0]]
    return [normalize_range_item(item, index) for index, item in enumerate(items)]
