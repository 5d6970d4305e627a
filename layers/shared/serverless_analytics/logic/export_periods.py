"""Date arithmetic of the events export: the checked [start, end) window and the calendar periods in it.

All times are GMT. Periods are calendar-aligned (days, ISO weeks starting Monday, months) and clipped to the
window, so the first period starts at `startDate` and the last ends at `endDate` even when they fall
inside a period.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from serverless_analytics.models.export import ECHO_FORMAT, ExportRequestError, Period

MAX_PERIODS = 1000


@dataclass(frozen=True)
class Window:
    """The requested time range: `start` inclusive, `end` exclusive, both aware UTC."""

    start: datetime
    end: datetime

    @property
    def dt_range(self) -> tuple[str, str]:
        """The first and last `dt` partitions (UTC dates) holding events of the window."""
        last = self.end - timedelta(microseconds=1)
        return f'{self.start:%Y-%m-%d}', f'{last:%Y-%m-%d}'


def earliest_start(now: datetime) -> datetime:
    """Midnight GMT of the same calendar day one year ago (28 February for a 29 February)."""
    today = now.date()
    try:
        day = today.replace(year=today.year - 1)
    except ValueError:
        day = today.replace(year=today.year - 1, day=28)
    return datetime.combine(day, time(), tzinfo=now.tzinfo)


def resolve_window(start: datetime, end: datetime | None, now: datetime) -> Window:
    """The window of a request; `end` defaults to now (to the second). Raises `ExportRequestError`."""
    end = end or now.replace(microsecond=0)
    if start < earliest_start(now):
        raise ExportRequestError(f'startDate must be within the past year (on or after {earliest_start(now):%Y-%m-%d})')
    if start > now:  # not in the past year either; and near year 9999 a period's next boundary would not exist
        raise ExportRequestError('startDate must not be later than now')
    if end <= start:
        raise ExportRequestError('endDate must be later than startDate')
    return Window(start, end)


def echo(moment: datetime) -> str:
    return moment.strftime(ECHO_FORMAT)


def period_text(moment: datetime) -> str:
    """FT writes period bounds as dates; only a window bound inside a day needs its time."""
    return f'{moment:%Y-%m-%d}' if moment.time() == time() else echo(moment)


def next_boundary(moment: datetime, period: Period) -> datetime:
    """The start of the calendar period after the one holding `moment`."""
    day = moment.date()
    if period is Period.DAY:
        following = day + timedelta(days=1)
    elif period is Period.WEEK:
        following = day + timedelta(days=7 - day.weekday())
    else:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return datetime.combine(following, time(), tzinfo=moment.tzinfo)


def period_starts(window: Window, period: Period) -> list[datetime]:
    """The start of every period of the window, the first being the window's start."""
    starts: list[datetime] = []
    for start in _starts(window, period):
        if len(starts) == MAX_PERIODS:
            raise ExportRequestError(
                f'The range holds more than {MAX_PERIODS} periods of a {period}; '
                'use a shorter range or a longer groupByPeriod'
            )
        starts.append(start)
    return starts


def _starts(window: Window, period: Period) -> Iterator[datetime]:
    moment = window.start
    while moment < window.end:
        yield moment
        moment = next_boundary(moment, period)


def period_bounds(window: Window, starts: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Each period as (start, exclusive end); the last ends at the window's end."""
    return list(zip(starts, [*starts[1:], window.end], strict=True))
