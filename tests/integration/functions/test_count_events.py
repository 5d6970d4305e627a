"""Event counts over events that went through the real ingestion path, checked against counts made here."""

from datetime import UTC, date, datetime, timedelta

import pytest

from functions.count_events.app import lambda_handler
from tests.integration.conftest import (
    assert_ft_credentials_checked,
    ft_error,
    ingest,
    invoke,
    with_body,
)

NAMES = ['khub.search', 'document.start_display', 'feedback.send']
NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # the clock of every test here: no run depends on its day
TODAY = NOW.date()
FIRST_MONTH = date(TODAY.year - (TODAY.month <= 3), (TODAY.month - 4) % 12 + 1, 1)  # three months back
START = datetime(FIRST_MONTH.year, FIRST_MONTH.month, 1, tzinfo=UTC)
END = START + timedelta(days=70)


@pytest.fixture(autouse=True)
def _pinned_clock(pinned_now) -> None:
    pinned_now(NOW)


def generated_events() -> list[dict]:
    """Every 17 hours from a day before START to past END, plus events exactly on START and END."""
    moments = [START - timedelta(days=1) + timedelta(hours=17 * i) for i in range(110)]
    moments += [START, END, END - timedelta(milliseconds=1), START - timedelta(milliseconds=1)]
    return [
        {
            'event_name': NAMES[i % 3],
            'timestamp': moment.isoformat(timespec='milliseconds'),
            'user': {'id': f'u{i % 4}', 'groups': ['beta'] if i % 5 == 0 else [], 'roles': ['admin'] * (i % 2)},
        }
        for i, moment in enumerate(moments)
    ]


@pytest.fixture
def events(aws, lambda_context) -> list[dict]:
    generated = generated_events()
    ingest(aws, generated, lambda_context)
    return generated


def _count(events: list[dict], name: str, start: datetime, end: datetime) -> int:
    return sum(1 for e in events if e['event_name'] == name and start <= datetime.fromisoformat(e['timestamp']) < end)


def _text(moment: datetime) -> str:
    return moment.strftime('%Y-%m-%d') if moment.time() == datetime.min.time() else moment.strftime('%Y-%m-%dT%H:%M:%S')


def expected_periods(events: list[dict], name: str, bounds: list[datetime]) -> list[dict]:
    return [
        {'periodStartDate': _text(start), 'periodEndDate': _text(end), 'eventCount': _count(events, name, start, end)}
        for start, end in zip(bounds, bounds[1:], strict=False)
    ]


def counts(body: dict, context) -> tuple[int, dict]:
    return invoke(lambda_handler, with_body('count_events', body), context)


def _months(start: datetime, end: datetime) -> list[datetime]:
    bounds, month = [start], start
    while (month := datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)) < end:
        bounds.append(month)
    return [*bounds, end]


def test_monthly_counts_of_the_named_events_with_every_period(aws, lambda_context, events):
    body = {
        'startDate': START.strftime('%Y-%m-%d'),
        'endDate': END.strftime('%Y-%m-%d'),
        'groupByPeriod': 'month',
        'filters': {'name': ['khub.search', 'no.such.event', 'feedback.send']},
    }

    status, answer = counts(body, lambda_context)

    assert status == 200
    bounds = _months(START, END)
    assert answer == {
        'startDate': START.strftime('%Y-%m-%dT%H:%M:%S'),
        'endDate': END.strftime('%Y-%m-%dT%H:%M:%S'),
        'groupByPeriod': 'month',
        'results': [
            {'name': name, 'periods': expected_periods(events, name, bounds)}
            for name in ['khub.search', 'no.such.event', 'feedback.send']
        ],
    }
    assert all(p['eventCount'] == 0 for p in answer['results'][1]['periods'])
    assert answer['results'][0]['periods'][0]['eventCount'] > 0


def test_weekly_counts_start_on_monday_and_clip_to_the_range(aws, lambda_context, events):
    # Given: a start in the middle of a week, at noon
    start = START + timedelta(days=(2 - START.weekday()) % 7, hours=12)  # a Wednesday
    end = start + timedelta(days=30)

    status, answer = counts(
        {
            'startDate': start.strftime('%Y-%m-%dT%H:%M'),
            'endDate': end.strftime('%Y-%m-%dT%H:%M:%S'),
            'groupByPeriod': 'WEEK',
        },
        lambda_context,
    )

    assert status == 200
    first_monday = (start + timedelta(days=7 - start.weekday())).replace(hour=0)
    bounds = [start, *[first_monday + timedelta(weeks=n) for n in range(5) if first_monday + timedelta(weeks=n) < end]]
    bounds.append(end)
    assert answer['groupByPeriod'] == 'week'
    assert [r['name'] for r in answer['results']] == sorted(NAMES)  # no filter: every name seen, sorted
    for result in answer['results']:
        assert result['periods'] == expected_periods(events, result['name'], bounds)
    assert answer['results'][0]['periods'][0]['periodStartDate'] == start.strftime('%Y-%m-%dT%H:%M:%S')


def test_daily_counts_include_the_days_without_events_and_respect_the_boundaries(aws, lambda_context, events):
    start, end = START - timedelta(days=2), START + timedelta(days=3)

    status, answer = counts(
        {'startDate': start.strftime('%Y-%m-%d'), 'endDate': end.strftime('%Y-%m-%d'), 'groupByPeriod': 'day'},
        lambda_context,
    )

    assert status == 200
    bounds = [start + timedelta(days=n) for n in range(6)]
    assert [r['name'] for r in answer['results']] == sorted(n for n in NAMES if _count(events, n, start, end))
    for result in answer['results']:
        assert result['periods'] == expected_periods(events, result['name'], bounds)
    assert all(r['periods'][0]['eventCount'] == 0 for r in answer['results'])  # a day before any event is listed
    # the event exactly on START counts on START's day; the one 1 ms earlier on the day before
    day_of_start = sum(r['periods'][2]['eventCount'] for r in answer['results'])
    assert day_of_start == sum(_count(events, n, START, START + timedelta(days=1)) for n in NAMES)


def test_counts_take_the_user_filter_of_the_events_route(aws, lambda_context, events):
    user = {'id': ['u1', 'u2'], 'group': ['beta'], 'role': ['admin']}
    body = {
        'startDate': START.strftime('%Y-%m-%d'),
        'endDate': END.strftime('%Y-%m-%d'),
        'groupByPeriod': 'month',
        'filters': {'user': user},
    }

    status, answer = counts(body, lambda_context)

    # Then: only the events of those users, in one of the groups and one of the roles, are counted
    matching = [
        e
        for e in events
        if e['user']['id'] in user['id'] and 'beta' in e['user']['groups'] and 'admin' in e['user']['roles']
    ]
    assert status == 200
    bounds = _months(START, END)
    names = sorted({e['event_name'] for e in matching if START <= datetime.fromisoformat(e['timestamp']) < END})
    assert answer['results'] == [{'name': name, 'periods': expected_periods(matching, name, bounds)} for name in names]
    assert 0 < sum(p['eventCount'] for r in answer['results'] for p in r['periods']) < len(events)


VALID = {'startDate': START.strftime('%Y-%m-%d'), 'endDate': END.strftime('%Y-%m-%d'), 'groupByPeriod': 'day'}


@pytest.mark.parametrize(
    ('body', 'expected'),
    [
        (
            {**VALID, 'endDate': None},
            ft_error(400, 'endDate: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got None'),
        ),
        ({k: v for k, v in VALID.items() if k != 'endDate'}, ft_error(400, 'endDate: is required')),
        ({k: v for k, v in VALID.items() if k != 'groupByPeriod'}, ft_error(400, 'groupByPeriod: is required')),
        ({**VALID, 'groupByPeriod': 'year'}, ft_error(400, "groupByPeriod: Input should be 'month', 'week' or 'day'")),
        ({**VALID, 'endDate': VALID['startDate']}, ft_error(400, 'endDate must be later than startDate')),
        (
            {**VALID, 'endDate': '2099-01-01'},
            ft_error(
                400, 'The range holds more than 1000 periods of a day; use a shorter range or a longer groupByPeriod'
            ),
        ),
        ({**VALID, 'filters': {'name': [1]}}, ft_error(400, 'filters.name.0: Input should be a valid string')),
        # an unknown filter is refused, at every level, rather than ignored into a count of everything
        ({**VALID, 'filters': {'names': ['a']}}, ft_error(400, 'filters.names: Extra inputs are not permitted')),
        (
            {**VALID, 'filters': {'user': {'groups': ['beta']}}},
            ft_error(400, 'filters.user.groups: Extra inputs are not permitted'),
        ),
        (
            {**VALID, 'startDate': '0000-01-01'},
            ft_error(400, "startDate: '0000-01-01' is not a valid date or time"),
        ),
        (
            {**VALID, 'endDate': '99999-01-01'},
            ft_error(
                400, "endDate: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got '99999-01-01'"
            ),
        ),
        (
            {**VALID, 'endDate': '9999-12-31T23:59:59', 'groupByPeriod': 'month'},
            ft_error(
                400, 'The range holds more than 1000 periods of a month; use a shorter range or a longer groupByPeriod'
            ),
        ),
        ({**VALID, 'startDate': '9999-12-31'}, ft_error(400, 'startDate must not be later than now')),
    ],
)
def test_bad_requests_are_400_naming_the_problem(aws, lambda_context, body, expected):
    assert counts(body, lambda_context) == expected


def test_start_older_than_a_year_is_400(aws, lambda_context):
    old = (NOW - timedelta(days=367)).strftime('%Y-%m-%d')
    status, answer = counts({**VALID, 'startDate': old}, lambda_context)
    assert status == 400
    assert answer['error']['message'].startswith('startDate must be within the past year')


def test_credentials(aws, lambda_context):
    assert_ft_credentials_checked(lambda_handler, 'count_events', lambda_context)
