"""Relative date ranges (spec §2 worked examples, now = 2024-05-15T13:03 UTC, a Wednesday)."""

from datetime import UTC, datetime

import pytest

from serverless_analytics.cube.dates import parse_date_range, resolve_date_range
from serverless_analytics.models.errors import CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('today', ['2024-05-15T00:00:00.000', '2024-05-15T23:59:59.999']),
        ('yesterday', ['2024-05-14T00:00:00.000', '2024-05-14T23:59:59.999']),
        ('tomorrow', ['2024-05-16T00:00:00.000', '2024-05-16T23:59:59.999']),
        ('this week', ['2024-05-13T00:00:00.000', '2024-05-19T23:59:59.999']),
        ('This week', ['2024-05-13T00:00:00.000', '2024-05-19T23:59:59.999']),
        ('last week', ['2024-05-06T00:00:00.000', '2024-05-12T23:59:59.999']),
        ('this month', ['2024-05-01T00:00:00.000', '2024-05-31T23:59:59.999']),
        ('last month', ['2024-04-01T00:00:00.000', '2024-04-30T23:59:59.999']),
        ('this quarter', ['2024-04-01T00:00:00.000', '2024-06-30T23:59:59.999']),
        ('last quarter', ['2024-01-01T00:00:00.000', '2024-03-31T23:59:59.999']),
        ('this year', ['2024-01-01T00:00:00.000', '2024-12-31T23:59:59.999']),
        ('last year', ['2023-01-01T00:00:00.000', '2023-12-31T23:59:59.999']),
        ('last 7 days', ['2024-05-08T00:00:00.000', '2024-05-14T23:59:59.999']),
        ('last 1 day', ['2024-05-14T00:00:00.000', '2024-05-14T23:59:59.999']),
        ('last 6 hours', ['2024-05-15T07:00:00.000', '2024-05-15T12:59:59.999']),
        ('from 7 days ago to now', ['2024-05-08T00:00:00.000', '2024-05-15T23:59:59.999']),
        ('next 2 weeks', ['2024-05-20T00:00:00.000', '2024-06-02T23:59:59.999']),
        ('next month', ['2024-06-01T00:00:00.000', '2024-06-30T23:59:59.999']),
        ('from last week to now', ['2024-05-06T00:00:00.000', '2024-05-12T23:59:59.999']),
        ('2024-01-05', ['2024-01-05T00:00:00.000', '2024-01-05T23:59:59.999']),
        ('from 2024-01-01 to 2024-02-01', ['2024-01-01T00:00:00.000', '2024-02-01T23:59:59.999']),
        ('2 days ago', ['2024-05-13T00:00:00.000', '2024-05-13T23:59:59.999']),
        ('now', ['2024-05-15T00:00:00.000', '2024-05-15T23:59:59.999']),
        ('last 2 months', ['2024-03-01T00:00:00.000', '2024-04-30T23:59:59.999']),
    ],
)
def test_relative_ranges(text, expected):
    assert parse_date_range(text, 'UTC', NOW) == expected


def test_from_one_hour_ago_in_los_angeles():
    now = datetime(2020, 9, 22, 13, 3, 20, 518000, tzinfo=UTC)
    assert parse_date_range('from 1 hour ago to now', 'America/Los_Angeles', now) == [
        '2020-09-22T05:00:00.000',
        '2020-09-22T06:59:59.999',
    ]


def test_today_is_local_to_the_timezone():
    late = datetime(2024, 5, 15, 23, 30, tzinfo=UTC)
    assert parse_date_range('today', 'Asia/Tokyo', late) == ['2024-05-16T00:00:00.000', '2024-05-16T23:59:59.999']


@pytest.mark.parametrize('text', ['blah', 'last fortnight', 'from x to y', '2024-13-45'])
def test_unparseable(text):
    with pytest.raises(CubeQueryError) as raised:
        parse_date_range(text, 'UTC', NOW)
    assert raised.value.message == f"Can't parse date: '{text}'"


def test_explicit_arrays_are_padded_and_converted_to_utc():
    assert resolve_date_range(['2024-01-05T10:00:00+02:00', '2024-01-06T10:00:00.123Z'], 'UTC', NOW) == [
        '2024-01-05T08:00:00.000',
        '2024-01-06T10:00:00.123',
    ]
    with pytest.raises(CubeQueryError, match="Can't parse date: 'soon'"):
        resolve_date_range(['2024-01-01', 'soon'], 'UTC', NOW)


def test_years_before_1000_keep_four_digits():
    assert resolve_date_range(['0999-01-01', '0999-12-31T10:00:00Z'], 'UTC', NOW) == [
        '0999-01-01T00:00:00.000',
        '0999-12-31T10:00:00.000',
    ]
    assert parse_date_range('from 0001-01-01 to 0001-01-02', 'UTC', NOW) == [
        '0001-01-01T00:00:00.000',
        '0001-01-02T23:59:59.999',
    ]


@pytest.mark.parametrize('text', ['last 100000000 years', 'in 8000 years', '9999999999999999 days ago'])
def test_arithmetic_past_the_calendar_is_out_of_bounds(text):
    with pytest.raises(CubeQueryError) as raised:
        parse_date_range(text, 'UTC', NOW)
    assert raised.value.message == f"Date '{text}' is out of bounds: dates must be between 0001-01-01 and 9999-12-31"


def test_the_last_period_of_year_9999_ends_at_its_last_millisecond():
    assert parse_date_range('this year', 'UTC', datetime(9999, 6, 1, tzinfo=UTC)) == [
        '9999-01-01T00:00:00.000',
        '9999-12-31T23:59:59.999',
    ]
