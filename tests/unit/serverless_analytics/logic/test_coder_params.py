"""Coder's parameter parser and insights rules, refusal for refusal (spec insights-api-semantics §0, §1.1, §1.2).

Expected texts are written out from Coder's sources (httpapi/queryparams.go, coderd/insights.go) and Go's
(strconv, google/uuid, time), not computed by the code under test. `NOW` is fixed: Thursday 2023-08-10 14:25 UTC.
"""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from serverless_analytics.http.insights_api import coder_body
from serverless_analytics.logic.coder_params import (
    atoi,
    go_quote,
    go_trim_space,
    parse_daus,
    parse_query,
    parse_rfc3339,
    parse_template_insights,
    parse_template_path_id,
    parse_user_insights,
    parse_user_status_counts,
    parse_uuid,
    query_without,
)
from serverless_analytics.models.errors import InsightsParamsError
from serverless_analytics.models.insights import (
    InsightsReportInterval,
    TemplateInsightsSection,
    UserStatusCountsParams,
)

NOW = datetime(2023, 8, 10, 14, 25, 7, tzinfo=UTC)
ID_A = '0b7ac7bd-5c1d-4d0e-9f3c-5a7c1b2e3d4f'
ID_B = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'
ID_C = 'f47ac10b-58cc-4372-a567-0e02b2c3d479'
WEEK = {'start_time': '2023-07-31T00:00:00Z', 'end_time': '2023-08-07T00:00:00Z'}
PLURAL = 'Query parameters have invalid values.'
SINGULAR = 'Query parameter has invalid value.'
LAYOUT = '2006-01-02T15:04:05Z07:00'


def _values(**params: str | list[str]) -> dict[str, list[str]]:
    return {name: value if isinstance(value, list) else [value] for name, value in params.items()}


def _refusal(parse, values, *args) -> dict:
    with pytest.raises(InsightsParamsError) as refused:
        parse(values, *args)
    error = refused.value
    return coder_body(error.message, error.detail, error.validations)


def _many(*validations: tuple[str, str]) -> dict:
    return {'message': PLURAL, 'validations': [{'field': f, 'detail': d} for f, d in validations]}


def _one(field: str, detail: str) -> dict:
    return {'message': SINGULAR, 'validations': [{'field': field, 'detail': detail}]}


# --- §0: the parser's table ---


def test_an_unknown_parameter_is_named():
    values = _values(**WEEK, foo='1')

    assert _refusal(parse_template_insights, values, NOW) == _many(('foo', '"foo" is not a valid query param'))


def test_an_unknown_parameter_is_quoted_as_go_quotes_it():
    values = parse_query('start_time=2023-07-31T00:00:00Z&end_time=2023-08-07T00:00:00Z&b%22%0Aad%FF=1')

    assert _refusal(parse_user_insights, values, NOW) == _many(
        ('b"\nad\ufffd', '"b\\"\\nad\\xff" is not a valid query param')
    )


@pytest.mark.parametrize('query', ['', 'start_time=&end_time=', 'start_time&end_time'])
def test_required_times_missing_or_empty_are_both_named_in_order(query):
    expected = _many(
        ('start_time', 'Query param "start_time" is required and cannot be empty'),
        ('end_time', 'Query param "end_time" is required and cannot be empty'),
    )

    assert _refusal(parse_template_insights, parse_query(query), NOW) == expected
    assert _refusal(parse_user_insights, parse_query(query), NOW) == expected


def test_a_required_time_whose_first_value_is_empty_is_missing_even_if_repeated():
    values = _values(start_time=['', '2023-07-31T00:00:00Z'], end_time=WEEK['end_time'])

    assert _refusal(parse_user_insights, values, NOW) == _many(
        ('start_time', 'Query param "start_time" is required and cannot be empty')
    )


@pytest.mark.parametrize(
    ('value', 'go_error'),
    [
        ('5.5', 'strconv.Atoi: parsing "5.5": invalid syntax'),  # issue #10562: half-hour zones
        ('+', 'strconv.Atoi: parsing "+": invalid syntax'),
        (' 2', 'strconv.Atoi: parsing " 2": invalid syntax'),
        ('1_0', 'strconv.Atoi: parsing "1_0": invalid syntax'),
        ('0x10', 'strconv.Atoi: parsing "0x10": invalid syntax'),
        ('99999999999999999999', 'strconv.Atoi: parsing "99999999999999999999": value out of range'),
        ('-9223372036854775809', 'strconv.Atoi: parsing "-9223372036854775809": value out of range'),
        ('99999999999999999999x', 'strconv.Atoi: parsing "99999999999999999999x": value out of range'),
        ('x99999999999999999999', 'strconv.Atoi: parsing "x99999999999999999999": invalid syntax'),
    ],
)
def test_a_bad_integer_carries_gos_atoi_error(value, go_error):
    expected = _many(('tz_offset', f'Query param "tz_offset" must be a valid integer: {go_error}'))

    assert _refusal(parse_daus, _values(tz_offset=value)) == expected


@pytest.mark.parametrize(
    ('value', 'number'),
    [('-2', -2), ('+3', 3), ('007', 7), ('9223372036854775807', 2**63 - 1), ('-9223372036854775808', -(2**63))],
)
def test_integers_go_accepts(value, number):
    assert atoi(value) == number
    assert parse_daus(_values(tz_offset=value)).tz_offset == number


def test_a_single_value_parameter_given_twice_is_refused_with_its_count():
    values = parse_query(
        'start_time=2023-07-31T00:00:00Z&end_time=2023-08-07T00:00:00Z&interval=day&interval=week&interval=day'
    )

    assert _refusal(parse_template_insights, values, NOW) == _many(
        (
            'interval',
            'Query param "interval" provided more than once, found 3 times. Only provide 1 instance of this query '
            'param.',
        )
    )


def test_a_repeated_integer_is_refused_and_an_empty_first_value_is_the_default():
    assert _refusal(parse_daus, parse_query('tz_offset=1&tz_offset=2')) == _many(
        (
            'tz_offset',
            'Query param "tz_offset" provided more than once, found 2 times. Only provide 1 instance of this query '
            'param.',
        )
    )
    assert parse_daus(parse_query('tz_offset=&tz_offset=2')).tz_offset == 0


@pytest.mark.parametrize(
    ('raw', 'go_errors'),
    [
        ('abc', 'invalid UUID length: 3'),
        (f'{ID_A},', 'invalid UUID length: 0'),  # a trailing comma is an empty item
        (f'{ID_A[:-1]}g', 'invalid UUID format'),
        ('abc,' + ID_A.replace('-', '_'), 'invalid UUID length: 3\ninvalid UUID format'),  # errors.Join
    ],
)
def test_bad_template_ids_carry_googles_uuid_errors_joined_by_newlines(raw, go_errors):
    values = _values(**WEEK, template_ids=raw)

    assert _refusal(parse_user_insights, values, NOW) == _many(
        ('template_ids', f'Query param "template_ids" has invalid values: {go_errors}')
    )


def test_template_ids_as_csv_repeated_keys_or_both_trimmed_of_spaces():
    times = 'start_time=2023-07-31T00:00:00Z&end_time=2023-08-07T00:00:00Z'
    query = f'{times}&template_ids=+{ID_A}%20,{ID_B}&template_ids={ID_C}%09'

    params = parse_user_insights(parse_query(query), NOW)

    assert params.template_ids == [UUID(ID_A), UUID(ID_B), UUID(ID_C)]


def test_template_ids_whose_first_value_is_empty_are_none_given():
    values = _values(**WEEK, template_ids=['', 'not-a-uuid'])

    assert parse_user_insights(values, NOW).template_ids == []


def test_every_problem_of_the_parameters_is_answered_together_in_parsing_order():
    values = parse_query('foo=1&end_time=x&end_time=y&template_ids=abc&sections=report&bar=')

    assert _refusal(parse_template_insights, values, NOW) == _many(
        ('start_time', 'Query param "start_time" is required and cannot be empty'),
        (
            'end_time',
            'Query param "end_time" provided more than once, found 2 times. Only provide 1 instance of this query '
            'param.',
        ),
        ('template_ids', 'Query param "template_ids" has invalid values: invalid UUID length: 3'),
        ('foo', '"foo" is not a valid query param'),
        ('bar', '"bar" is not a valid query param'),
    )


def test_status_counts_take_tz_offset_and_an_interval_in_seconds_and_nothing_else():
    assert parse_user_status_counts({}) == UserStatusCountsParams(tz_offset=0, interval=86400, timezone=None)
    assert parse_user_status_counts(parse_query('tz_offset=-2&interval=3600')).interval == 3600
    assert _refusal(
        parse_user_status_counts,
        parse_query('interval=1d&start_time=x'),
    ) == _many(
        ('interval', 'Query param "interval" must be a valid integer: strconv.Atoi: parsing "1d": invalid syntax'),
        ('start_time', '"start_time" is not a valid query param'),
    )


def test_daus_take_only_tz_offset_with_default_zero():
    assert parse_daus({}).tz_offset == 0
    assert _refusal(
        parse_daus,
        parse_query('tz_offset=-2&interval=day'),
    ) == _many(('interval', '"interval" is not a valid query param'))


# --- §1.1: the times ---


def test_times_keep_the_offset_they_were_sent_in():
    params = parse_template_insights(
        _values(start_time='2023-08-01T00:00:00+02:00', end_time='2023-08-08T00:00:00-05:30'), NOW
    )

    assert params.start_time == datetime(2023, 8, 1, tzinfo=timezone(timedelta(hours=2)))
    assert params.start_time.utcoffset() == timedelta(hours=2)
    assert params.end_time.utcoffset() == -timedelta(hours=5, minutes=30)
    assert params.template_ids == []
    assert params.interval is None
    assert params.sections == [TemplateInsightsSection.INTERVAL_REPORTS, TemplateInsightsSection.REPORT]


@pytest.mark.parametrize(
    ('value', 'go_error'),
    [
        ('2023-08-01', f'parsing time "2023-08-01" as "{LAYOUT}": cannot parse "" as "T"'),
        ('2023-08-01T00:00:00', f'parsing time "2023-08-01T00:00:00" as "{LAYOUT}": cannot parse "" as "Z07:00"'),
        (
            '2023-08-01t00:00:00Z',
            f'parsing time "2023-08-01t00:00:00Z" as "{LAYOUT}": cannot parse "t00:00:00Z" as "T"',
        ),
        ('2023-08-01T00:00:00z', f'parsing time "2023-08-01T00:00:00z" as "{LAYOUT}": cannot parse "z" as "Z07:00"'),
        (
            '2023-08-01 00:00:00Z',
            f'parsing time "2023-08-01 00:00:00Z" as "{LAYOUT}": cannot parse " 00:00:00Z" as "T"',
        ),
        (
            '2023-08-01T00:00:00+0200',
            f'parsing time "2023-08-01T00:00:00+0200" as "{LAYOUT}": cannot parse "+0200" as "Z07:00"',
        ),
        (
            '23-08-01T00:00:00Z',
            f'parsing time "23-08-01T00:00:00Z" as "{LAYOUT}": cannot parse "23-08-01T00:00:00Z" as "2006"',
        ),
        (
            '2023-8-01T00:00:00Z',
            f'parsing time "2023-8-01T00:00:00Z" as "{LAYOUT}": cannot parse "8-01T00:00:00Z" as "01"',
        ),
        (
            '2023/08/01T00:00:00Z',
            f'parsing time "2023/08/01T00:00:00Z" as "{LAYOUT}": cannot parse "/08/01T00:00:00Z" as "-"',
        ),
        ('2023-13-01T00:00:00Z', 'parsing time "2023-13-01T00:00:00Z": month out of range'),
        ('2023-02-29T00:00:00Z', 'parsing time "2023-02-29T00:00:00Z": day out of range'),
        ('2023-08-00T00:00:00Z', 'parsing time "2023-08-00T00:00:00Z": day out of range'),
        ('2023-08-01T24:00:00Z', 'parsing time "2023-08-01T24:00:00Z": hour out of range'),
        ('2023-08-01T00:60:00Z', 'parsing time "2023-08-01T00:60:00Z": minute out of range'),
        ('2023-08-01T00:00:60Z', 'parsing time "2023-08-01T00:00:60Z": second out of range'),
        ('2023-08-01T00:00:00+25:00', 'parsing time "2023-08-01T00:00:00+25:00": time zone offset hour out of range'),
        ('2023-08-01T00:00:00Z junk', 'parsing time "2023-08-01T00:00:00Z junk": extra text: " junk"'),
        (
            '2023-08-01T00:00:00\u00e9',
            f'parsing time "2023-08-01T00:00:00\\xc3\\xa9" as "{LAYOUT}": cannot parse "\\xc3\\xa9" as "Z07:00"',
        ),
    ],
)
def test_a_time_go_cannot_parse_carries_gos_parse_error(value, go_error):
    values = _values(start_time=value, end_time='2023-08-07T00:00:00Z')

    assert _refusal(parse_user_insights, values, NOW) == _one(
        'start_time', f'Query param "start_time" must be a valid date format ({LAYOUT}): {go_error}'
    )


@pytest.mark.parametrize(
    ('value', 'parsed'),
    [
        ('2023-08-01T00:00:00.5Z', datetime(2023, 8, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ('2023-08-01T00:00:00,25Z', datetime(2023, 8, 1, 0, 0, 0, 250000, tzinfo=UTC)),  # Go takes a comma too
        (
            '2023-08-01T00:00:00.123456789123+02:00',
            datetime(2023, 8, 1, 0, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        ),
        ('2023-08-01T9:00:00Z', datetime(2023, 8, 1, 9, tzinfo=UTC)),  # Go's layout "15" takes one digit
        ('2023-08-01T00:00:00-00:00', datetime(2023, 8, 1, tzinfo=UTC)),
        ('2024-02-29T00:00:00+23:59', datetime(2024, 2, 29, tzinfo=timezone(timedelta(hours=23, minutes=59)))),
        ('2023-08-01T00:00:00+02:60', datetime(2023, 8, 1, tzinfo=timezone(timedelta(hours=3)))),  # Go: up to :60
    ],
)
def test_times_go_accepts(value, parsed):
    assert parse_rfc3339(value) == parsed
    assert parse_rfc3339(value).utcoffset() == parsed.utcoffset()


@pytest.mark.parametrize(
    ('value', 'message'),
    [
        ('0000-01-01T00:00:00Z', 'parsing time "0000-01-01T00:00:00Z": year out of range'),
        ('2023-08-01T00:00:00+24:00', 'parsing time "2023-08-01T00:00:00+24:00": time zone offset hour out of range'),
    ],
)
def test_times_go_accepts_but_python_cannot_hold_are_refused_in_gos_words(value, message):
    with pytest.raises(ValueError, match='^' + message.replace('+', r'\+') + '$'):
        parse_rfc3339(value)


@pytest.mark.parametrize('value', ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00+00:00', '0001-01-01T02:00:00+02:00'])
def test_the_zero_time_is_refused_whatever_its_offset(value):
    values = _values(start_time=value, end_time='2023-08-07T00:00:00Z')

    assert _refusal(parse_user_insights, values, NOW) == _one('start_time', 'Query param "start_time" must not be zero')


def test_a_time_past_the_next_whole_utc_hour_is_in_the_future():
    values = _values(start_time='2023-08-10T00:00:00Z', end_time='2023-08-10T16:00:00Z')

    assert _refusal(parse_user_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must not be in the future'
    )


def test_the_next_whole_hour_is_not_in_the_future():
    params = parse_user_insights(_values(start_time='2023-08-10T00:00:00Z', end_time='2023-08-10T15:00:00Z'), NOW)

    assert params.end_time == datetime(2023, 8, 10, 15, tzinfo=UTC)


def test_the_future_is_judged_on_utc_hours_whatever_the_offset():
    # 14:25Z: the limit is 15:00Z, i.e. 20:30 at +05:30; a whole local hour past it is refused
    limit_ok = parse_user_insights(
        _values(start_time='2023-08-10T00:00:00+05:30', end_time='2023-08-10T20:00:00+05:30'), NOW
    )
    assert limit_ok.end_time.hour == 20

    refused = _values(start_time='2023-08-10T00:00:00+05:30', end_time='2023-08-10T21:00:00+05:30')
    assert _refusal(parse_user_insights, refused, NOW) == _one(
        'end_time', 'Query param "end_time" must not be in the future'
    )


def test_the_start_is_checked_before_the_end():
    values = _values(start_time='2023-09-01T00:00:00Z', end_time='nonsense')

    assert _refusal(parse_user_insights, values, NOW) == _one(
        'start_time', 'Query param "start_time" must not be in the future'
    )


def test_the_start_must_be_midnight_even_today():
    values = _values(start_time='2023-08-10T01:00:00Z', end_time='2023-08-10T14:00:00Z')

    assert _refusal(parse_user_insights, values, NOW) == _one(
        'start_time', 'Query param "start_time" must have the clock set to 00:00:00, got 2023-08-10T01:00:00Z'
    )


def test_an_end_before_today_must_be_midnight():
    values = _values(start_time='2023-08-01T00:00:00Z', end_time='2023-08-09T14:00:00Z')

    assert _refusal(parse_user_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must have the clock set to 00:00:00, got 2023-08-09T14:00:00Z'
    )


def test_an_end_today_may_be_a_whole_hour_but_not_a_part_of_one():
    allowed = parse_user_insights(_values(start_time='2023-08-01T00:00:00Z', end_time='2023-08-10T14:00:00Z'), NOW)
    assert allowed.end_time == datetime(2023, 8, 10, 14, tzinfo=UTC)

    values = _values(start_time='2023-08-01T00:00:00Z', end_time='2023-08-10T14:30:00Z')
    assert _refusal(parse_user_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must have the clock set to 14:00:00, got 2023-08-10T14:30:00Z'
    )


def test_today_is_the_date_of_now_in_the_ends_own_offset():
    # at 14:25Z it is already 2023-08-11 01:25 at +11:00: 01:00 there is today's whole hour
    params = parse_user_insights(
        _values(start_time='2023-08-03T00:00:00+11:00', end_time='2023-08-11T01:00:00+11:00'), NOW
    )
    assert params.end_time.hour == 1

    # and at -12:00 it is still 2023-08-10 02:25, so 2023-08-09 is not today
    values = _values(start_time='2023-08-03T00:00:00-12:00', end_time='2023-08-09T22:00:00-12:00')
    assert _refusal(parse_user_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must have the clock set to 00:00:00, got 2023-08-09T22:00:00-12:00'
    )


def test_fractional_seconds_are_not_part_of_coders_clock_check():
    params = parse_user_insights(_values(start_time='2023-08-01T00:00:00.5Z', end_time='2023-08-02T00:00:00Z'), NOW)

    assert params.start_time.microsecond == 500000


def test_an_end_before_the_start_is_refused_but_equal_times_are_not():
    values = _values(start_time='2023-08-02T00:00:00Z', end_time='2023-08-01T00:00:00Z')
    assert _refusal(parse_user_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must be after than "start_time"'
    )

    same = parse_user_insights(
        _values(start_time='2023-08-02T00:00:00+02:00', end_time='2023-08-02T00:00:00+02:00'), NOW
    )
    assert same.start_time == same.end_time


# --- §1.2: interval and sections ---


@pytest.mark.parametrize('value', ['hour', 'Day', 'days', ' week'])
def test_an_unknown_interval_is_refused(value):
    values = _values(**WEEK, interval=value)

    assert _refusal(parse_template_insights, values, NOW) == _one('interval', 'must be one of [day week]')


@pytest.mark.parametrize(
    ('start', 'end', 'interval'),
    [
        ('2023-07-31T00:00:00Z', '2023-08-07T00:00:00Z', InsightsReportInterval.WEEK),  # a whole week
        ('2023-07-04T00:00:00Z', '2023-08-07T00:00:00Z', InsightsReportInterval.WEEK),  # 4 weeks and 6 days
        ('2023-08-01T00:00:00Z', '2023-08-07T00:00:00Z', InsightsReportInterval.WEEK),  # six days
        ('2023-08-01T00:00:00Z', '2023-08-01T00:00:00Z', InsightsReportInterval.WEEK),  # empty: remainder 0
        ('2023-08-01T00:00:00Z', '2023-08-03T00:00:00Z', InsightsReportInterval.DAY),
    ],
)
def test_intervals_coder_accepts(start, end, interval):
    params = parse_template_insights(_values(start_time=start, end_time=end, interval=interval.value), NOW)

    assert params.interval is interval
    assert params.interval.days == (7 if interval is InsightsReportInterval.WEEK else 1)


@pytest.mark.parametrize(
    ('start', 'end'),
    [
        ('2023-07-31T00:00:00Z', '2023-08-08T00:00:00Z'),  # 8 days: the last week has one
        ('2023-08-01T00:00:00Z', '2023-08-06T00:00:00Z'),  # 5 days
        ('2023-08-05T00:00:00Z', '2023-08-10T14:00:00Z'),  # 5 days 14 hours, ending today
    ],
)
def test_a_week_interval_whose_last_week_is_short_is_refused_with_a_detail_and_no_validations(start, end):
    values = _values(start_time=start, end_time=end, interval='week')

    assert _refusal(parse_template_insights, values, NOW) == {
        'message': SINGULAR,
        'detail': 'Last report interval should have at least 6 days.',
    }


def test_the_time_rules_come_before_the_interval_rules():
    values = _values(start_time='2023-08-01T00:00:00Z', end_time='2023-07-01T00:00:00Z', interval='hour')

    assert _refusal(parse_template_insights, values, NOW) == _one(
        'end_time', 'Query param "end_time" must be after than "start_time"'
    )


@pytest.mark.parametrize('sections', ['reports', 'report,', 'report,interval_reports,REPORT'])
def test_an_unknown_section_is_refused_after_the_interval(sections):
    values = _values(**WEEK, sections=sections)

    assert _refusal(parse_template_insights, values, NOW) == _one(
        'sections', 'must be one of [interval_reports report]'
    )


def test_sections_as_csv_or_repeated_keys():
    only_report = parse_template_insights(_values(**WEEK, interval='day', sections='report'), NOW)
    both = parse_template_insights(
        parse_query('sections=report&sections=interval_reports&' + _encoded(WEEK) + '&interval=day'), NOW
    )

    assert (only_report.wants_report, only_report.wants_interval_reports) == (True, False)
    assert both.sections == [TemplateInsightsSection.REPORT, TemplateInsightsSection.INTERVAL_REPORTS]
    assert (both.wants_report, both.wants_interval_reports) == (True, True)


def test_interval_reports_need_an_interval():
    params = parse_template_insights(_values(**WEEK, sections='interval_reports'), NOW)

    assert (params.wants_report, params.wants_interval_reports) == (False, False)


def _encoded(times: dict[str, str]) -> str:
    return '&'.join(f'{name}={value.replace("+", "%2B")}' for name, value in times.items())


# --- Ours: timezone ---


@pytest.mark.parametrize('parse', [parse_daus, parse_user_status_counts])
def test_a_timezone_is_an_iana_zone(parse):
    assert parse(_values(timezone='Europe/Paris')).timezone == ZoneInfo('Europe/Paris')
    assert parse(_values(timezone='Europe/Paris', tz_offset='')).timezone == ZoneInfo('Europe/Paris')


@pytest.mark.parametrize('parse', [parse_daus, parse_user_status_counts])
def test_timezone_and_tz_offset_together_are_refused(parse):
    assert _refusal(parse, _values(timezone='Europe/Paris', tz_offset='-2')) == {
        'message': 'Provide either "timezone" or "tz_offset", not both.'
    }


@pytest.mark.parametrize('zone', ['Mars/Olympus_Mons', '../etc/passwd', 'Europe'])
def test_an_unknown_timezone_is_refused_in_coders_shape(zone):
    assert _refusal(parse_daus, _values(timezone=zone)) == _many(
        ('timezone', f'Query param "timezone" has invalid value: unknown time zone {zone}')
    )


# --- Go's texts ---


@pytest.mark.parametrize(
    ('text', 'parsed_or_error'),
    [
        (ID_B, UUID(ID_B)),
        (ID_B.upper(), UUID(ID_B)),
        (ID_B.replace('-', ''), UUID(ID_B)),
        (f'urn:uuid:{ID_B}', UUID(ID_B)),
        (f'URN:UUID:{ID_B}', UUID(ID_B)),
        (f'{{{ID_B}}}', UUID(ID_B)),
        (f'x{ID_B}y', UUID(ID_B)),  # google/uuid drops a 38-character value's ends unchecked
        (f'urn:uuix:{ID_B}', 'invalid urn prefix: "urn:uuix:"'),
        ('', 'invalid UUID length: 0'),
        ('é' * 17, 'invalid UUID length: 34'),  # counted in bytes
        ('é' * 18, 'invalid UUID format'),  # 36 bytes: the length passes
        (ID_B.replace('-', '+'), 'invalid UUID format'),
        (ID_B.replace('-', '')[:-1] + 'z', 'invalid UUID format'),
    ],
)
def test_uuids_as_googles_parse_reads_them(text, parsed_or_error):
    if isinstance(parsed_or_error, UUID):
        assert parse_uuid(text) == parsed_or_error
    else:
        with pytest.raises(ValueError) as refused:
            parse_uuid(text)
        assert str(refused.value) == parsed_or_error


def test_go_trims_its_own_spaces_only():
    assert go_trim_space('\u00a0\u3000 a \t\u2009') == 'a'
    assert go_trim_space('\x1ca\x1f') == '\x1ca\x1f'  # Python's strip would take these


@pytest.mark.parametrize(
    ('text', 'quoted'),
    [
        ('foo', '"foo"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ('\n\t\x00\x7f', '"\\n\\t\\x00\\x7f"'),
        ('é\u00a0\u200b😀', '"é\\u00a0\\u200b😀"'),
        (b'\xff\xe2\x82'.decode('utf-8', 'surrogateescape'), '"\\xff\\xe2\\x82"'),
    ],
)
def test_go_quote_is_strconv_quote(text, quoted):
    assert go_quote(text) == quoted


def test_the_query_is_read_as_gos_url_query():
    assert parse_query('a=1&a=2&b=x;y&c=%zz&d=+x%2B&&e&f=%C3%A9&=z') == {
        'a': ['1', '2'],
        'd': [' x+'],
        'e': [''],
        'f': ['é'],
        '': ['z'],
    }


def test_one_parameter_is_taken_out_of_a_raw_query_as_sent():
    raw = 'coder_session_token=abc&x=%2B1&coder%5Fsession_token=def&y'

    assert query_without(raw, 'coder_session_token') == 'x=%2B1&y'


def test_a_template_path_id_is_refused_as_coders_uuid_param():
    assert parse_template_path_id(ID_A) == UUID(ID_A)
    with pytest.raises(InsightsParamsError) as refused:
        parse_template_path_id('nope')
    assert coder_body(refused.value.message, refused.value.detail) == {
        'message': 'Invalid UUID "template".',
        'detail': 'invalid UUID length: 4',
    }


def test_a_status_count_step_finer_than_an_hour_is_refused_before_any_point_is_made():
    from serverless_analytics.logic.coder_params import parse_user_status_counts
    from serverless_analytics.models.errors import InsightsParamsError

    with pytest.raises(InsightsParamsError) as refused:
        parse_user_status_counts({'interval': ['1']})

    assert refused.value.validations == [('interval', 'Query param "interval" must be at least 3600 seconds')]
    assert parse_user_status_counts({'interval': ['3600']}).step_seconds == 3600
    assert parse_user_status_counts({'interval': ['-5']}).step_seconds == 86_400  # Coder: <= 0 is one day
