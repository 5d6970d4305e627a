"""Window checks and calendar periods: GMT days, ISO weeks from Monday, months, clipped to the window."""

from datetime import UTC, datetime, timedelta

import pytest

from serverless_analytics.logic.export_periods import (
    MAX_PERIODS,
    Window,
    earliest_start,
    next_boundary,
    period_bounds,
    period_starts,
    period_text,
    resolve_window,
)
from serverless_analytics.models.export import ExportRequestError, Period

NOW = datetime(2026, 11, 22, 7, 30, 15, 123456, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_start_is_accepted_back_to_the_same_day_last_year():
    assert earliest_start(NOW) == at(2025, 11, 22)
    assert resolve_window(at(2025, 11, 22), None, NOW).start == at(2025, 11, 22)
    with pytest.raises(ExportRequestError, match=r'within the past year \(on or after 2025-11-22\)'):
        resolve_window(at(2025, 11, 21, 23, 59), None, NOW)


@pytest.mark.parametrize('start', [at(2026, 11, 22, 7, 30, 16), at(9999, 12, 31)])
def test_a_start_later_than_now_is_refused(start):
    with pytest.raises(ExportRequestError, match='startDate must not be later than now'):
        resolve_window(start, at(9999, 12, 31, 23, 59, 59), NOW)


@pytest.mark.parametrize('period', list(Period))
def test_an_end_in_year_9999_is_refused_for_its_periods_not_an_overflow(period):
    window = resolve_window(at(2026, 1, 1), at(9999, 12, 31, 23, 59, 59), NOW)
    with pytest.raises(ExportRequestError, match='more than 1000 periods'):
        period_starts(window, period)


def test_a_leap_day_looks_back_to_the_28th():
    assert earliest_start(at(2028, 2, 29, 12)) == at(2027, 2, 28)


def test_the_end_defaults_to_now_to_the_second():
    assert resolve_window(at(2026, 11, 1), None, NOW).end == at(2026, 11, 22, 7, 30, 15)


@pytest.mark.parametrize('end', [at(2026, 11, 1), at(2026, 10, 31)])
def test_the_end_must_be_after_the_start(end):
    with pytest.raises(ExportRequestError, match='endDate must be later than startDate'):
        resolve_window(at(2026, 11, 1), end, NOW)


def test_dt_range_excludes_a_midnight_end():
    assert Window(at(2026, 10, 1, 12), at(2026, 11, 1)).dt_range == ('2026-10-01', '2026-10-31')
    assert Window(at(2026, 10, 1), at(2026, 11, 1, 0, 0, 1)).dt_range == ('2026-10-01', '2026-11-01')


@pytest.mark.parametrize(
    ('moment', 'period', 'expected'),
    [
        (at(2026, 11, 22, 7), Period.DAY, at(2026, 11, 23)),
        (at(2026, 11, 18, 12), Period.WEEK, at(2026, 11, 23)),  # Wednesday -> Monday
        (at(2026, 11, 23), Period.WEEK, at(2026, 11, 30)),  # a Monday -> the next one
        (at(2026, 11, 29, 23, 59), Period.WEEK, at(2026, 11, 30)),  # Sunday night -> Monday
        (at(2026, 1, 31, 5), Period.MONTH, at(2026, 2, 1)),
        (at(2026, 12, 15), Period.MONTH, at(2027, 1, 1)),
    ],
)
def test_next_boundary(moment, period, expected):
    assert next_boundary(moment, period) == expected


def test_periods_are_clipped_to_the_window():
    window = Window(at(2026, 1, 15, 10), at(2026, 3, 10))
    starts = period_starts(window, Period.MONTH)
    assert period_bounds(window, starts) == [
        (at(2026, 1, 15, 10), at(2026, 2, 1)),
        (at(2026, 2, 1), at(2026, 3, 1)),
        (at(2026, 3, 1), at(2026, 3, 10)),
    ]


def test_a_window_inside_one_period_is_one_period():
    window = Window(at(2026, 11, 17, 6), at(2026, 11, 17, 9))
    assert period_bounds(window, period_starts(window, Period.WEEK)) == [(window.start, window.end)]


def test_every_day_is_a_period():
    window = Window(at(2026, 2, 26), at(2026, 3, 2))
    assert period_starts(window, Period.DAY) == [at(2026, 2, 26) + timedelta(days=n) for n in range(4)]


def test_too_many_periods_are_refused():
    window = Window(at(2026, 1, 1), at(2026, 1, 1) + timedelta(days=MAX_PERIODS + 1))
    with pytest.raises(ExportRequestError, match='more than 1000 periods of a day'):
        period_starts(window, Period.DAY)
    assert len(period_starts(window, Period.WEEK)) == 144


def test_period_text_is_a_date_unless_inside_a_day():
    assert (period_text(at(2026, 2, 1)), period_text(at(2026, 2, 1, 10, 30))) == ('2026-02-01', '2026-02-01T10:30:00')
