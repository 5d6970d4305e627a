"""Coder's DAU answer from the daily aggregates, with hand-computed windows and labels (spec §4, mapping §5)."""

from datetime import UTC, date, datetime

from serverless_analytics.logic.daus import daus_body, window_days

NOW = datetime(2026, 12, 7, 14, 20, tzinfo=UTC)
TEMPLATE = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
AGGREGATES = [
    {'sk': '2026-10-08', 'users': 3, 'by_template': {TEMPLATE: 2}},
    {'sk': '2026-12-07', 'users': 5, 'by_template': {}},
    {'sk': '2026-10-07', 'users': 9, 'by_template': {TEMPLATE: 9}},  # before the window: never shown
]


def test_61_utc_days_from_60_days_before_the_next_hour_zero_days_included():
    body = daus_body(AGGREGATES, NOW, 0)

    entries = body['entries']
    assert (len(entries), entries[0], entries[-1], body['tz_hour_offset']) == (
        61,
        {'date': '2026-10-08', 'amount': 3},
        {'date': '2026-12-07', 'amount': 5},
        0,
    )
    assert entries[1] == {'date': '2026-10-09', 'amount': 0}


def test_a_negative_offset_labels_each_utc_day_one_day_earlier_as_coders_server_does():
    entries = daus_body(AGGREGATES, NOW, -2)['entries']

    assert (entries[0], entries[-1]) == ({'date': '2026-10-07', 'amount': 3}, {'date': '2026-12-06', 'amount': 5})


def test_a_positive_offset_keeps_the_utc_dates():
    entries = daus_body(AGGREGATES, NOW, 5)['entries']

    assert (entries[0]['date'], entries[-1]['date']) == ('2026-10-08', '2026-12-07')


def test_half_an_hour_before_utc_midnight_the_window_is_60_whole_days():
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)

    entries = daus_body(AGGREGATES, late, 0)['entries']

    assert (len(entries), entries[0]['date'], entries[-1]['date']) == (60, '2026-10-09', '2026-12-07')
    assert window_days(late) == (date(2026, 10, 9), date(2026, 12, 7))


def test_a_template_counts_its_own_users():
    entries = daus_body(AGGREGATES, NOW, 0, TEMPLATE)['entries']

    assert (entries[0]['amount'], entries[-1]['amount']) == (2, 0)


def test_an_offset_beyond_a_day_shifts_the_labels_as_a_fixed_zone_does():
    entries = daus_body(AGGREGATES, NOW, 30)['entries']

    assert entries[0] == {'date': '2026-10-09', 'amount': 3}
