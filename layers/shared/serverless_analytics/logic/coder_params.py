"""Coder's insights parameters, refused as Coder refuses them (spec insights-api-semantics §0, §1.1, §1.2).

Three layers, as in Coder's handlers:

1. `QueryParamParser` (Coder's `httpapi.QueryParamParser`): every problem of every parameter is collected and
   answered together, `{"message": "Query parameters have invalid values.", "validations": [...]}`. A parameter
   whose first value is empty counts as not given (Go's `url.Values.Get`), so its default applies.
2. The time rules (`parseInsightsStartAndEndTime`) and the interval rules (`parseInsightsInterval`), then the
   sections: the first failure is answered alone, `{"message": "Query parameter has invalid value.", ...}`.
3. Ours, on the DAU and status routes: an IANA `timezone`, never together with `tz_offset`.

The texts inside the details are Go's own: `strconv.Atoi`, google/uuid's `Parse`, `time.Parse(time.RFC3339, ..)`
and `%q` quoting, reproduced here byte for byte, since clients show them. `now` is always a parameter.

Where Python cannot hold what Go accepts, the value is refused in Go's words rather than answered differently:
year 0000 (Go's `time.Parse` takes it; a Python datetime starts at year 1) and offsets of 24:00 or more (Go takes
up to +24:60). Digits past microseconds are dropped (Go keeps nanoseconds), which could only change a judgement
for a time within a microsecond of the zero time or of the next whole hour.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote_to_bytes
from uuid import UUID
from zoneinfo import ZoneInfo

from serverless_analytics.models.errors import InsightsParamsError
from serverless_analytics.models.insights import (
    DEFAULT_SECTIONS,
    DausParams,
    InsightsReportInterval,
    TemplateInsightsParams,
    TemplateInsightsSection,
    UserInsightsParams,
    UserStatusCountsParams,
)

QueryValues = Mapping[str, list[str]]

SESSION_TOKEN_PARAM = 'coder_session_token'
INVALID_VALUES = 'Query parameters have invalid values.'
INVALID_VALUE = 'Query parameter has invalid value.'
RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00'
SIX_DAYS_SHORT = 'Last report interval should have at least 6 days.'
BOTH_TIMEZONES = 'Provide either "timezone" or "tz_offset", not both.'

INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Go's time.Time{}
DAY_NS = 86_400 * 10**9
WEEK_NS = 7 * DAY_NS

# Go's unicode.IsSpace, which strings.TrimSpace trims (Python's str.strip also trims \x1c-\x1f).
GO_SPACES = (
    '\t\n\v\f\r \x85\xa0\u1680'
    + ''.join(chr(code) for code in range(0x2000, 0x200B))
    + '\u2028\u2029\u202f\u205f\u3000'
)
_GO_ESCAPES = {'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v'}
_MALFORMED_ESCAPE = re.compile(r'%(?![0-9A-Fa-f]{2})')
_HEX_DIGITS = frozenset(b'0123456789abcdefABCDEF')
_UUID_HEX_AT = (0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34)


# --- Go's texts: url.ParseQuery, strconv.Quote, strconv.Atoi, uuid.Parse ---


def parse_query(raw: str) -> dict[str, list[str]]:
    """Go's `r.URL.Query()`: pairs split on `&`; a pair holding `;` or a malformed `%` escape is dropped (Go 1.17+);
    `+` is a space. Keys in the order first seen; bytes that are not UTF-8 kept as `surrogateescape` characters."""
    values: dict[str, list[str]] = {}
    for pair in raw.split('&'):
        if not pair or ';' in pair:
            continue
        key, _, value = pair.partition('=')
        if _MALFORMED_ESCAPE.search(key) or _MALFORMED_ESCAPE.search(value):
            continue
        values.setdefault(_query_unescape(key), []).append(_query_unescape(value))
    return values


def _query_unescape(text: str) -> str:
    return unquote_to_bytes(text.replace('+', ' ')).decode('utf-8', 'surrogateescape')


def query_without(raw: str, name: str) -> str:
    """The raw query string without the pairs whose key is `name` (as Go decodes keys); others kept as sent."""
    return '&'.join(pair for pair in raw.split('&') if pair and not _has_key(pair, name))


def _has_key(pair: str, name: str) -> bool:
    key = pair.partition('=')[0]
    return not _MALFORMED_ESCAPE.search(key) and _query_unescape(key) == name


def go_quote(text: str) -> str:
    """Go's `strconv.Quote` (what `%q` writes): printable characters as they are, `"` and `\\` escaped, others as Go
    escapes them; a byte that is not UTF-8 (a `surrogateescape` character) as `\\xHH`."""
    return '"' + ''.join(_quoted(char) for char in text) + '"'


def _quoted(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f'\\x{code - 0xDC00:02x}'
    if char in '"\\':
        return '\\' + char
    if char.isprintable():  # Python's printable is Go's unicode.IsPrint: letters, marks, numbers, punctuation, ...
        return char
    if char in _GO_ESCAPES:
        return _GO_ESCAPES[char]
    if code < 0x20 or code == 0x7F:
        return f'\\x{code:02x}'
    return f'\\u{code:04x}' if code < 0x10000 else f'\\U{code:08x}'


def _go_bytes(text: str) -> bytes:
    return text.encode('utf-8', 'surrogateescape')


def atoi(text: str) -> int:
    """Go's `strconv.Atoi` on a 64-bit server; a refusal's message is Go's (`strconv.Atoi: parsing "5.5": invalid
    syntax`, `... value out of range`). Only ASCII digits after one optional sign; no underscores, no spaces."""
    data = _go_bytes(text)
    negative = data[:1] == b'-'
    digits = data[1:] if data[:1] in (b'+', b'-') else data
    value = 0
    for byte in digits:
        if not 0x30 <= byte <= 0x39:
            raise _atoi_error(text, 'invalid syntax')
        value = value * 10 + byte - 0x30
        if value > UINT64_MAX:  # Go stops at the first digit that overflows, before any later bad byte
            raise _atoi_error(text, 'value out of range')
    if not digits:
        raise _atoi_error(text, 'invalid syntax')
    value = -value if negative else value
    if not INT64_MIN <= value <= INT64_MAX:
        raise _atoi_error(text, 'value out of range')
    return value


def _atoi_error(text: str, reason: str) -> ValueError:
    return ValueError(f'strconv.Atoi: parsing {go_quote(text)}: {reason}')


def parse_uuid(text: str) -> UUID:
    """google/uuid's `Parse` (v1.6): 36 characters, or 32 hex digits, `urn:uuid:` + 36, or 38 (its first character
    dropped unchecked, as Go's does); errors `invalid UUID length: N` (in bytes) and `invalid UUID format`."""
    data = _go_bytes(text)
    if len(data) == 32:
        return UUID(bytes=_hex_pairs(data, range(0, 32, 2)))
    if len(data) == 45:
        if data[:9].lower() != b'urn:uuid:':
            raise ValueError(f'invalid urn prefix: {go_quote(data[:9].decode("utf-8", "surrogateescape"))}')
        data = data[9:]
    elif len(data) == 38:
        data = data[1:]
    elif len(data) != 36:
        raise ValueError(f'invalid UUID length: {len(data)}')
    if any(data[at] != 0x2D for at in (8, 13, 18, 23)):
        raise ValueError('invalid UUID format')
    return UUID(bytes=_hex_pairs(data, _UUID_HEX_AT))


def _hex_pairs(data: bytes, positions: range | tuple[int, ...]) -> bytes:
    pairs = [data[at : at + 2] for at in positions]
    if any(byte not in _HEX_DIGITS for pair in pairs for byte in pair):
        raise ValueError('invalid UUID format')
    return bytes(int(pair, 16) for pair in pairs)


def go_trim_space(text: str) -> str:
    return text.strip(GO_SPACES)


# --- Go's time.Parse(time.RFC3339, value) ---


class _Bad(Exception):
    """Go's errBad: the element cannot be parsed."""


class _OutOfRange(Exception):
    """Go's rangeErrString: the element parsed but is out of its range."""


def parse_rfc3339(text: str) -> datetime:
    """Go's `time.Parse(time.RFC3339, text)`, which is laxer than RFC 3339: a one-digit hour, a fraction of any
    length after `.` or `,`, an offset up to 24:60. Refused: a missing offset, a lowercase `t` or `z`, a space for
    `T`. The error texts are Go's: `parsing time "2023-08-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as
    "T"`, `parsing time "...": month out of range`, `...: extra text: "..."`, `...: day out of range`."""
    data = _go_bytes(text)
    parts, rest = _rfc3339_elements(data)
    if rest:
        raise _time_error(data, f': extra text: {_time_quote(rest)}')
    year, month, day, hour, minute, second, nanos, offset = parts
    if not 1 <= day <= _days_in(month, year):
        raise _time_error(data, ': day out of range')
    if year == 0 or abs(offset) >= 86_400:  # see the module's docstring: Go takes these, Python cannot hold them
        raise _time_error(data, ': year out of range' if year == 0 else ': time zone offset hour out of range')
    zone = UTC if offset == 0 else timezone(timedelta(seconds=offset))
    return datetime(year, month, day, hour, minute, second, nanos // 1000, tzinfo=zone)


def _rfc3339_elements(data: bytes) -> tuple[tuple[int, ...], bytes]:
    """The layout's elements in order, each after its literal prefix, as Go's parse loop reads them."""
    parsed: list[int] = []
    rest = data
    for prefix, element, read in _LAYOUT_ELEMENTS:
        if not rest.startswith(prefix):
            raise _cannot_parse(data, rest, prefix)
        rest = rest[len(prefix) :]
        try:
            values, after = read(rest)
        except _Bad:
            raise _cannot_parse(data, rest, element) from None
        except _OutOfRange as error:
            raise _time_error(data, f': {error} out of range') from None
        parsed.extend(values)
        rest = after
    return tuple(parsed), rest


def _is_digit(data: bytes, at: int) -> bool:
    return at < len(data) and 0x30 <= data[at] <= 0x39


def _getnum(data: bytes, fixed: bool) -> tuple[int, bytes]:
    """Go's getnum: one or two digits (exactly two when `fixed`)."""
    if not _is_digit(data, 0):
        raise _Bad
    if not _is_digit(data, 1):
        if fixed:
            raise _Bad
        return data[0] - 0x30, data[1:]
    return (data[0] - 0x30) * 10 + data[1] - 0x30, data[2:]


def _read_year(data: bytes) -> tuple[list[int], bytes]:
    if len(data) < 4 or not all(_is_digit(data, at) for at in range(4)):
        raise _Bad
    return [int(data[:4])], data[4:]


def _ranged(low: int, high: int, name: str, fixed: bool = True) -> Callable[[bytes], tuple[list[int], bytes]]:
    def read(data: bytes) -> tuple[list[int], bytes]:
        value, rest = _getnum(data, fixed)
        if not low <= value <= high:
            raise _OutOfRange(name)
        return [value], rest

    return read


def _read_second(data: bytes) -> tuple[list[int], bytes]:
    """Seconds, then a fraction Go takes though the layout has none: `.` or `,` and digits, nanoseconds from the
    first nine."""
    [second], rest = _ranged(0, 59, 'second')(data)
    if len(rest) < 2 or rest[:1] not in (b'.', b',') or not _is_digit(rest, 1):
        return [second, 0], rest
    end = 2
    while _is_digit(rest, end):
        end += 1
    nanos = int(rest[1:end][:9].ljust(9, b'0'))
    return [second, nanos], rest[end:]


def _read_offset(data: bytes) -> tuple[list[int], bytes]:
    """`Z`, or `±hh:mm`; Go's range checks (`>`, not `>=`) come before its sign check."""
    if data[:1] == b'Z':
        return [0], data[1:]
    if len(data) < 6 or data[3:4] != b':':
        raise _Bad
    hours = _offset_number(data[1:3])
    minutes = _offset_number(data[4:6]) if hours is not None else None  # Go reads the minutes only after the hours
    if minutes is not None and minutes > 60:
        raise _OutOfRange('time zone offset minute')
    if hours is not None and hours > 24:
        raise _OutOfRange('time zone offset hour')
    if hours is None or minutes is None or data[:1] not in (b'+', b'-'):
        raise _Bad
    seconds = (hours * 60 + minutes) * 60
    return [-seconds if data[:1] == b'-' else seconds], data[6:]


def _offset_number(pair: bytes) -> int | None:
    try:
        return _getnum(pair, fixed=True)[0]
    except _Bad:
        return None


_LAYOUT_ELEMENTS: tuple[tuple[bytes, bytes, Callable[[bytes], tuple[list[int], bytes]]], ...] = (
    (b'', b'2006', _read_year),
    (b'-', b'01', _ranged(1, 12, 'month')),
    (b'-', b'02', _ranged(0, 99, 'day')),  # any two digits here; the day is checked against its month at the end
    (b'T', b'15', _ranged(0, 23, 'hour', fixed=False)),
    (b':', b'04', _ranged(0, 59, 'minute')),
    (b':', b'05', _read_second),
    (b'', b'Z07:00', _read_offset),
)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _time_quote(data: bytes) -> str:
    """Go's time.quote (not strconv.Quote): every byte outside printable ASCII as `\\xHH`."""
    escaped = (
        f'\\x{byte:02x}' if byte >= 0x80 or byte < 0x20 else ('\\' if byte in b'"\\' else '') + chr(byte)
        for byte in data
    )
    return '"' + ''.join(escaped) + '"'


def _time_error(data: bytes, message: str) -> ValueError:
    return ValueError(f'parsing time {_time_quote(data)}{message}')


def _cannot_parse(data: bytes, rest: bytes, element: bytes) -> ValueError:
    layout = f' as "{RFC3339_LAYOUT}": cannot parse {_time_quote(rest)} as {_time_quote(element)}'
    return _time_error(data, layout)


# --- Coder's QueryParamParser ---


class QueryParamParser:
    """Coder's `httpapi.QueryParamParser`: each reader records its parameter as known and any problem as a
    validation; `refuse_if_invalid` adds the unknown parameters and raises them all together."""

    def __init__(self, values: QueryValues, required_not_empty: tuple[str, ...] = ()):
        self._values = values
        self._required = set(required_not_empty)
        self._known: set[str] = set()
        self.validations: list[tuple[str, str]] = []

    def refuse(self, name: str, detail: str) -> None:
        self.validations.append((name, detail))

    def _given(self, name: str) -> list[str] | None:
        """The values of `name`, or None when Coder takes it as not given (absent, or its first value empty)."""
        self._known.add(name)
        values = self._values.get(name) or []
        if values and values[0] != '':
            return values
        if name in self._required:
            self.refuse(name, f'Query param {go_quote(name)} is required and cannot be empty')
        return None

    def _single(self, name: str) -> str | None:
        values = self._given(name)
        if values is not None and len(values) > 1:
            self.refuse(
                name,
                f'Query param {go_quote(name)} provided more than once, found {len(values)} times. '
                'Only provide 1 instance of this query param.',
            )
            return None
        return values[0] if values else None

    def string(self, name: str, default: str = '') -> str:
        value = self._single(name)
        return default if value is None else value

    def integer(self, name: str, default: int) -> int:
        value = self._single(name)
        if value is None:
            return default
        try:
            return atoi(value)
        except ValueError as error:
            self.refuse(name, f'Query param {go_quote(name)} must be a valid integer: {error}')
            return default

    def uuids(self, name: str) -> list[UUID]:
        """CSV and repeated keys alike, each item trimmed; Go joins the items' errors with newlines."""
        ids, problems = [], []
        for term in self._terms(name) or []:
            try:
                ids.append(parse_uuid(go_trim_space(term)))
            except ValueError as error:
                problems.append(str(error))
        if problems:
            self.refuse(name, f'Query param {go_quote(name)} has invalid values: ' + '\n'.join(problems))
            return []
        return ids

    def strings(self, name: str, default: list[str]) -> list[str]:
        terms = self._terms(name)
        return default if terms is None else terms

    def _terms(self, name: str) -> list[str] | None:
        values = self._given(name)
        return None if values is None else [term for value in values for term in value.split(',')]

    def zone(self, name: str) -> ZoneInfo | None:
        """An IANA zone name (ours): refused as Coder's `ParseCustom` words it, with Go's `LoadLocation` error."""
        value = self._single(name)
        if value is None:
            return None
        try:
            return ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            self.refuse(name, f'Query param {go_quote(name)} has invalid value: unknown time zone {value}')
            return None

    def refuse_if_invalid(self) -> None:
        # Go reports unknown parameters in map order (random); first-seen order is one of those orders.
        for name in self._values:
            if name not in self._known:
                self.refuse(name, f'{go_quote(name)} is not a valid query param')
        if self.validations:
            raise InsightsParamsError(INVALID_VALUES, validations=self.validations)


# --- Coder's insights rules (coderd/insights.go) ---


def _invalid_value(name: str, detail: str) -> InsightsParamsError:
    return InsightsParamsError(INVALID_VALUE, validations=[(name, detail)])


def insights_start_and_end(start_text: str, end_text: str, now: datetime) -> tuple[datetime, datetime]:
    """`parseInsightsStartAndEndTime`: each time parsed and checked in turn, then their order (equal is fine)."""
    start = _insights_time('start_time', start_text, now)
    end = _insights_time('end_time', end_text, now)
    if end < start:
        raise _invalid_value('end_time', 'Query param "end_time" must be after than "start_time"')
    return start, end


def _insights_time(name: str, text: str, now: datetime) -> datetime:
    try:
        value = parse_rfc3339(text)
    except ValueError as error:
        detail = f'Query param {go_quote(name)} must be a valid date format ({RFC3339_LAYOUT}): {error}'
        raise _invalid_value(name, detail) from None
    if value == ZERO_TIME:
        raise _invalid_value(name, f'Query param {go_quote(name)} must not be zero')
    if value > next_whole_hour(now):
        raise _invalid_value(name, f'Query param {go_quote(name)} must not be in the future')
    _check_clock(name, text, value, now)
    return value


def next_whole_hour(now: datetime) -> datetime:
    """Go's `now.Truncate(time.Hour).Add(time.Hour)`: Truncate works on absolute time, so on UTC hours (an offset
    of +05:30 does not move it)."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _check_clock(name: str, text: str, value: datetime, now: datetime) -> None:
    """00:00:00 in the time's own offset; only an end on today's date (in that offset) may have a whole hour."""
    today = value.date() == now.astimezone(value.tzinfo).date()
    if not (name == 'end_time' and today) and (value.hour, value.minute, value.second) != (0, 0, 0):
        raise _invalid_value(name, f'Query param {go_quote(name)} must have the clock set to 00:00:00, got {text}')
    if value.minute or value.second:
        clock = f'{value.hour:02d}:00:00'
        raise _invalid_value(name, f'Query param {go_quote(name)} must have the clock set to {clock}, got {text}')


def insights_interval(text: str, start: datetime, end: datetime) -> InsightsReportInterval | None:
    """`parseInsightsInterval`: none, `day`, or `week` when the last week of the range has at least six days."""
    if text == '':
        return None
    if text == InsightsReportInterval.DAY:
        return InsightsReportInterval.DAY
    if text != InsightsReportInterval.WEEK:
        raise _invalid_value('interval', 'must be one of [day week]')
    if not _last_interval_has_six_days(start, end):
        raise InsightsParamsError(INVALID_VALUE, detail=SIX_DAYS_SHORT)
    return InsightsReportInterval.WEEK


def _last_interval_has_six_days(start: datetime, end: datetime) -> bool:
    """`lastReportIntervalHasAtLeastSixDays`; `start.AddDate(0, 0, 6) == end` (forward DST) is exactly six days in
    a fixed offset, already within the remainder rule."""
    remainder = _go_duration_ns(end - start) % WEEK_NS
    return remainder == 0 or remainder >= 6 * DAY_NS or end - start == timedelta(days=6)


def _go_duration_ns(delta: timedelta) -> int:
    """Go's `end.Sub(start)`, which saturates at the int64 range of nanoseconds (about 292 years)."""
    nanos = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    return max(INT64_MIN, min(INT64_MAX, nanos))


def template_insights_sections(values: list[str]) -> list[TemplateInsightsSection]:
    """`parseTemplateInsightsSections`: every item must be a section (an empty CSV item is not)."""
    if any(value not in {section.value for section in TemplateInsightsSection} for value in values):
        raise _invalid_value('sections', 'must be one of [interval_reports report]')
    return [TemplateInsightsSection(value) for value in values]


def _single_timezone(values: QueryValues) -> None:
    given = [name for name in ('timezone', 'tz_offset') if (values.get(name) or [''])[0] != '']
    if len(given) == 2:
        raise InsightsParamsError(BOTH_TIMEZONES)


# --- The routes' parameters ---


def parse_template_insights(values: QueryValues, now: datetime) -> TemplateInsightsParams:
    """`GET /insights/templates`: `start_time`, `end_time` (required), `interval`, `template_ids`, `sections`."""
    parser = QueryParamParser(values, required_not_empty=('start_time', 'end_time'))
    start_text, end_text = parser.string('start_time'), parser.string('end_time')
    interval_text = parser.string('interval')
    template_ids = parser.uuids('template_ids')
    section_texts = parser.strings('sections', [str(section) for section in DEFAULT_SECTIONS])
    parser.refuse_if_invalid()
    start, end = insights_start_and_end(start_text, end_text, now)
    interval = insights_interval(interval_text, start, end)
    sections = template_insights_sections(section_texts)
    return TemplateInsightsParams(
        start_time=start, end_time=end, template_ids=template_ids, interval=interval, sections=sections
    )


def parse_user_insights(values: QueryValues, now: datetime) -> UserInsightsParams:
    """`GET /insights/user-activity` and `/insights/user-latency`: `start_time`, `end_time`, `template_ids`."""
    parser = QueryParamParser(values, required_not_empty=('start_time', 'end_time'))
    start_text, end_text = parser.string('start_time'), parser.string('end_time')
    template_ids = parser.uuids('template_ids')
    parser.refuse_if_invalid()
    start, end = insights_start_and_end(start_text, end_text, now)
    return UserInsightsParams(start_time=start, end_time=end, template_ids=template_ids)


def parse_daus(values: QueryValues) -> DausParams:
    """`GET /insights/daus` and `/templates/{template}/daus`: `tz_offset` (default 0) or `timezone`."""
    parser = QueryParamParser(values)
    tz_offset = parser.integer('tz_offset', 0)
    zone = parser.zone('timezone')
    parser.refuse_if_invalid()
    _single_timezone(values)
    return DausParams(tz_offset=tz_offset, timezone=zone)


# The finest step of the status counts: 61 days of hours, 1,465 points at most.
MIN_STATUS_INTERVAL_SECONDS = 3600


def parse_user_status_counts(values: QueryValues) -> UserStatusCountsParams:
    """`GET /insights/user-status-counts`: `tz_offset` (default 0), `interval` (seconds, default 86400) or
    `timezone`."""
    parser = QueryParamParser(values)
    tz_offset = parser.integer('tz_offset', 0)
    interval = parser.integer('interval', 86_400)
    zone = parser.zone('timezone')
    parser.refuse_if_invalid()
    _single_timezone(values)
    params = UserStatusCountsParams(tz_offset=tz_offset, interval=interval, timezone=zone)
    if params.step_seconds < MIN_STATUS_INTERVAL_SECONDS:
        # Ours, not Coder's: a one-second step would be 5 million points over the 61 days (Coder's query too).
        detail = f'Query param "interval" must be at least {MIN_STATUS_INTERVAL_SECONDS} seconds'
        raise InsightsParamsError(INVALID_VALUES, validations=[('interval', detail)])
    return params


def parse_template_path_id(raw: str) -> UUID:
    """The `{template}` of `/templates/{template}/daus`, refused as Coder's `httpmw.ParseUUIDParam` does."""
    try:
        return parse_uuid(raw)
    except ValueError as error:
        raise InsightsParamsError('Invalid UUID "template".', detail=str(error)) from None
