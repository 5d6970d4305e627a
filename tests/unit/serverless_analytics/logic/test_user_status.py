"""Coder's user status counts from a status history: the points (tz_offset as Coder's server reads it, an IANA
timezone's true midnights), the counting rule and the body, hand-computed."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from serverless_analytics.logic.user_status import StatusChange, UserDeletion, status_points, user_status_counts
from serverless_analytics.models.insights import UserStatus

NOW = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)  # the next full hour: 14:00Z
DAY = timedelta(days=1)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _change(user_id: str, status: str, at: str) -> StatusChange:
    return StatusChange(user_id=user_id, new_status=UserStatus(status), changed_at=_utc(at))


def _deleted(user_id: str, at: str) -> UserDeletion:
    return UserDeletion(user_id=user_id, deleted_at=_utc(at))


def _daily(first: str, count: int) -> list[datetime]:
    return [_utc(first) + DAY * k for k in range(count)]


def test_the_points_are_the_utc_midnights_of_the_last_sixty_days_and_today():
    assert status_points(NOW) == _daily('2026-09-23T00:00', 61)


def test_a_negative_tz_offset_gives_that_zones_midnights():
    # FixedZone(-2 h): the next full hour is 12:00 local on the 22nd, whose midnight is 02:00Z
    assert status_points(NOW, tz_offset=-2) == _daily('2026-09-23T02:00', 61)


def test_a_positive_tz_offset_gives_that_zones_midnights():
    # FixedZone(+5 h): 19:00 local on the 22nd, whose midnight is 19:00Z on the 21st
    assert status_points(NOW, tz_offset=5) == _daily('2026-09-22T19:00', 61)


def test_today_is_the_day_of_the_next_full_hour():
    # 21:30Z with +5 is 02:30 on the 23rd locally; the next full hour, 03:00 on the 23rd, is step-aligned
    late = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)
    assert status_points(late, tz_offset=5) == _daily('2026-09-23T19:00', 61)
    # at 23:10Z the next full hour is the next day's midnight itself, the last point
    assert status_points(datetime(2026, 11, 22, 23, 10, tzinfo=UTC))[-1] == _utc('2026-11-23T00:00')


def test_an_offset_beyond_a_day_is_taken_as_coder_takes_it():
    # FixedZone(+30 h): 20:00 on the 23rd locally, whose midnight is 30 hours before 00:00Z on the 23rd
    assert status_points(NOW, tz_offset=30)[-1] == _utc('2026-11-21T18:00')


def test_a_timezone_gives_its_local_midnights_across_a_daylight_saving_change():
    points = status_points(NOW, timezone=ZoneInfo('America/New_York'))

    # EDT (UTC-4) until 1 November at 02:00, EST (UTC-5) after: midnight is 04:00Z, then 05:00Z
    assert points == _daily('2026-09-23T04:00', 40) + _daily('2026-11-02T05:00', 21)


def test_the_interval_changes_the_step_and_the_last_point_is_at_most_the_next_full_hour():
    points = status_points(NOW, interval_seconds=7 * 86_400)
    assert points == _daily('2026-09-23T00:00', 61)[::7]
    hourly = status_points(NOW, interval_seconds=3600)
    assert (hourly[0], hourly[-1], len(hourly)) == (_utc('2026-09-23T00:00'), _utc('2026-11-22T14:00'), 61 * 24 - 9)
    assert status_points(NOW, interval_seconds=0) == status_points(NOW)


def test_each_user_counts_under_its_latest_status_until_its_deletion():
    history = [
        _change('u1', 'active', '2026-09-01T00:00'),  # before the window
        _change('u2', 'active', '2026-10-01T12:00'),
        _change('u2', 'dormant', '2026-11-01T00:15'),
        _change('u3', 'active', '2026-11-20T12:00'),
        _change('u3', 'suspended', '2026-11-22T13:30'),  # after the last point, before the next full hour
    ]
    deletions = [_deleted('u1', '2026-10-10T12:00')]

    body = user_status_counts(history, deletions, NOW)

    points = _daily('2026-09-23T00:00', 61)

    def active(point: datetime) -> int:
        u1 = point <= _utc('2026-10-10T00:00')  # counted until the instant of its deletion
        u2 = _utc('2026-10-02T00:00') <= point <= _utc('2026-11-01T00:00')
        u3 = point >= _utc('2026-11-21T00:00')
        return u1 + u2 + u3

    assert list(body['status_counts']) == ['active', 'dormant', 'suspended']  # alphabetical
    assert body['status_counts']['active'] == [
        {'date': f'{point:%Y-%m-%dT%H:%M:%SZ}', 'count': active(point)} for point in points
    ]
    assert [p['count'] for p in body['status_counts']['dormant']] == [
        int(point >= _utc('2026-11-02T00:00')) for point in points
    ]
    assert [p['count'] for p in body['status_counts']['suspended']] == [0] * 61  # occurs, so listed with zeros
    assert body['status_counts']['active'][0]['date'] == '2026-09-23T00:00:00Z'


def test_the_dates_are_in_utc_whatever_the_offset():
    body = user_status_counts([_change('u1', 'active', '2026-01-01T00:00')], [], NOW, tz_offset=-2)

    assert [p['date'] for p in body['status_counts']['active']][:2] == ['2026-09-23T02:00:00Z', '2026-09-24T02:00:00Z']
    assert {p['count'] for p in body['status_counts']['active']} == {1}


def test_a_timezone_counts_at_its_local_midnights():
    history = [_change('u1', 'active', '2026-11-10T04:30'), _change('u1', 'suspended', '2026-11-12T04:30')]

    body = user_status_counts(history, [], NOW, timezone=ZoneInfo('America/New_York'))

    # local midnights are 05:00Z in November: 04:30Z on the 10th is still the 9th in New York
    counts = {p['date']: p['count'] for p in body['status_counts']['active']}
    assert (counts['2026-11-10T05:00:00Z'], counts['2026-11-11T05:00:00Z'], counts['2026-11-12T05:00:00Z']) == (1, 1, 0)


def test_no_history_is_an_empty_map():
    assert user_status_counts([], [], NOW) == {'status_counts': {}}


def test_only_the_statuses_of_relevant_changes_are_listed():
    history = [
        _change('gone', 'suspended', '2026-08-01T00:00'),  # its user was deleted before the window
        _change('late', 'dormant', '2026-11-22T15:00'),  # after the next full hour
        _change('after', 'active', '2026-10-01T00:00'),
        _change('after', 'suspended', '2026-10-05T00:00'),  # after its user's deletion
    ]
    deletions = [_deleted('gone', '2026-09-01T00:00'), _deleted('after', '2026-10-02T00:00')]

    body = user_status_counts(history, deletions, NOW)

    assert list(body['status_counts']) == ['active']
    # 'after' at the midnight of 1 October only: deleted at the next one
    assert [p['date'] for p in body['status_counts']['active'] if p['count']] == ['2026-10-01T00:00:00Z']
