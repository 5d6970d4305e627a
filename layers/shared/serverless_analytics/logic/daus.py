"""Daily active users as Coder's server answers `GET /insights/daus` and `/templates/{id}/daus` with `tz_offset`
(insights mapping §5, spec §4): 61 UTC-day buckets, each labelled with its start in `FixedZone(tz_offset × 3600)`.

Coder's server reads the offset east-positive while its dashboard sends `Math.trunc(getTimezoneOffset() / 60)`,
which is west-positive, so with a negative value every label is one day earlier: reproduced on purpose, since
clients compensate for what Coder does. The counts are the rollup's per-UTC-day aggregates: a user is active on a
day with at least one usage bucket starting in it, which is Coder's interval query for one-day intervals (a bucket
never straddles a UTC midnight).
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.models.errors import InsightsParamsError
from serverless_analytics.models.insights import DausParams, DAUsResponse

DAYS_BACK = 60


def dau_window(now: datetime) -> tuple[datetime, datetime]:
    """Coder's window in UTC: `end = now.In(loc).Truncate(1h).Add(1h)`, `start = end.Truncate(24h).AddDate(0, 0,
    -60)`. Go's Truncate works on absolute time, so both are UTC hours and UTC midnights whatever the offset, and
    AddDate in a fixed zone is 24 h per day."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end.replace(hour=0) - timedelta(days=DAYS_BACK), end


def day_starts(start: datetime, end: datetime) -> list[datetime]:
    """`generate_series(start, end - 1 µs, 1 day)`."""
    starts, day = [], start
    while day <= end - timedelta(microseconds=1):
        starts.append(day)
        day += timedelta(days=1)
    return starts


def daus_body(
    aggregates: Iterable[Mapping[str, Any]], now: datetime, tz_offset: int, template_id: str | None = None
) -> dict[str, Any]:
    """The answer from the aggregates table's items (`sk` = UTC day, `users`, `by_template`) of the window.

    Raises OverflowError for an offset no calendar can show (Coder takes any integer; Go's arithmetic wraps)."""
    by_day = {item['sk']: _amount(item, template_id) for item in aggregates}
    shift = timedelta(hours=tz_offset)
    entries = [
        {'date': (day + shift).strftime('%Y-%m-%d'), 'amount': by_day.get(day.date().isoformat(), 0)}
        for day in day_starts(*dau_window(now))
    ]
    return {'entries': entries, 'tz_hour_offset': tz_offset}


def window_days(now: datetime) -> tuple[date, date]:
    """The first and last UTC days the window reads."""
    start, end = dau_window(now)
    return start.date(), (end - timedelta(microseconds=1)).date()


def _amount(item: Mapping[str, Any], template_id: str | None) -> int:
    if template_id is None:
        return int(item.get('users', 0))
    return int((item.get('by_template') or {}).get(template_id, 0))


def daily_active_users(
    project_id: str, params: DausParams, settings: Settings, template_id: UUID | None = None
) -> DAUsResponse:
    """The project's DAUs (all users, or one template's) from the rollup's daily aggregates, never from events."""
    if params.timezone is not None:
        return _local_daus(project_id, params.timezone, settings, template_id, params.tz_offset)
    now = clock.now()
    first, last = window_days(now)
    items = dynamodb.daily_active_users(settings.AGGREGATES_TABLE, project_id, first.isoformat(), last.isoformat())
    try:
        body = daus_body(items, now, params.tz_offset, str(template_id) if template_id else None)
    except OverflowError:
        detail = 'Query param "tz_offset" must be an offset in hours a calendar can show'
        raise InsightsParamsError(
            'Query parameters have invalid values.', validations=[('tz_offset', detail)]
        ) from None
    return DAUsResponse.model_validate(body)


def local_days(now: datetime, zone: tzinfo) -> list[tuple[datetime, date]]:
    """With an IANA zone (ours, not Coder's): the zone's local midnights from the local date of the next full hour
    minus 60 days up to that hour, each with its local date (a DST day is 23 or 25 hours long)."""
    end = dau_window(now)[1]
    day = end.astimezone(zone).date() - timedelta(days=DAYS_BACK)
    days = []
    while (midnight := datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)) < end:
        days.append((midnight, day))
        day += timedelta(days=1)
    return days


def _local_daus(
    project_id: str, zone: ZoneInfo, settings: Settings, template_id: UUID | None, tz_offset: int
) -> DAUsResponse:
    """True local days need the usage buckets themselves (users are not additive across UTC days): SQL through the
    deployment's engine, partition-pruned to the window's days."""
    from serverless_analytics.logic.insights_queries import local_daily_users
    from serverless_analytics.logic.query_engine import query_engine

    now = clock.now()
    days = local_days(now, zone)
    users = local_daily_users(
        query_engine(settings),
        project_id,
        days[0][0],
        dau_window(now)[1],
        zone.key,
        [template_id] if template_id else [],
        timeout=settings.INSIGHTS_QUERY_TIMEOUT_SECONDS,
    )
    entries = [{'date': day.isoformat(), 'amount': users.get(day, 0)} for _, day in days]
    return DAUsResponse.model_validate({'entries': entries, 'tz_hour_offset': tz_offset})
