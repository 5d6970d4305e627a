"""The events export's contract (Fluid Topics `POST /analytics/api/v1/events` and `/traffic/event-counts`).

Dates are GMT wall-clock times in one of FT's three formats; they are parsed here into aware UTC datetimes.
Checks that need the current time (the one-year limit, the default end) are in `logic.export_periods`.
"""

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from serverless_analytics.config import Settings, get_settings
from serverless_analytics.models.errors import AnalyticsError

DATE_FORMATS = {10: '%Y-%m-%d', 16: '%Y-%m-%dT%H:%M', 19: '%Y-%m-%dT%H:%M:%S'}
_DATE_SHAPE = re.compile(r'\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?', re.ASCII)  # not Arabic-Indic digits
ECHO_FORMAT = '%Y-%m-%dT%H:%M:%S'
MAX_FILTER_VALUES = 1000
# The page's offset, (page - 1) * perPage with perPage at most EXPORT_MAX_PER_PAGE (10,000 at most), stays below
# 2**53: exact in a JSON number and far inside the engines' 64-bit OFFSET (10**18 overflowed it: a 503).
MAX_PAGE = 10_000_000


class ExportRequestError(AnalyticsError):
    """The request is not one the export takes; the message names the problem (answered as 400)."""


def parse_gmt(value: Any) -> datetime:
    """`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`, GMT, to an aware UTC datetime."""
    if not isinstance(value, str) or not _DATE_SHAPE.fullmatch(value):
        raise ValueError(f'expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (GMT), got {_shown(value)}')
    try:
        return datetime.strptime(value, DATE_FORMATS[len(value)]).replace(tzinfo=UTC)
    except ValueError as error:
        raise ValueError(f'{value!r} is not a valid date or time') from error


def _shown(value: Any, limit: int = 40) -> str:
    """The value as the message quotes it, cut short: a 400 names the problem, it does not echo a whole body."""
    text = repr(value)
    return text if len(text) <= limit else f'{text[:limit]}...'


def _as_list(value: Any) -> Any:
    """FT documents `filters.user.id` as a string in one table and a list in the prose: take both."""
    return [value] if isinstance(value, str) else value


def _no_duplicates(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


GmtDate = Annotated[datetime, BeforeValidator(parse_gmt)]
FilterValue = Annotated[str, Field(min_length=1, max_length=256)]
FilterValues = Annotated[list[FilterValue], Field(max_length=MAX_FILTER_VALUES)]


class _Request(BaseModel):
    # Spring Boot, which FT's services run on, ignores unknown JSON fields by default; so do we.
    model_config = ConfigDict(extra='ignore', alias_generator=to_camel, populate_by_name=True)


class _Filter(_Request):
    # An unknown filter is refused, not ignored: ignoring it would answer more events than the caller asked for.
    model_config = ConfigDict(extra='forbid')


class UserFilter(_Filter):
    id: Annotated[FilterValues, BeforeValidator(_as_list)] = []
    realm: FilterValues = []
    group: FilterValues = []
    role: FilterValues = []


class EventFilters(_Filter):
    """The filters of both routes: any of the names, and users matching every given part."""

    name: FilterValues = []
    user: UserFilter = UserFilter()

    @field_validator('name')
    @classmethod
    def _dedupe(cls, names: list[str]) -> list[str]:
        return _no_duplicates(names)


class PagingRequest(_Request):
    """A page of the export; the largest page is the deployment's `EXPORT_MAX_PER_PAGE`, from the `Settings` given
    as the validation context, else the function's own (Powertools validates route bodies without a context)."""

    page: Annotated[StrictInt, Field(ge=1, le=MAX_PAGE)]
    per_page: StrictInt

    @field_validator('per_page')
    @classmethod
    def _within_cap(cls, per_page: int, info: ValidationInfo) -> int:
        settings = info.context if isinstance(info.context, Settings) else get_settings()
        maximum = settings.EXPORT_MAX_PER_PAGE
        if not 1 <= per_page <= maximum:
            raise ValueError(f'must be between 1 and {maximum}')
        return per_page

    @staticmethod
    def largest_first(settings: Settings) -> dict[str, int]:
        """The first page of the largest size, as the body would give it: the page asked for without `paging`
        (FT's "everything" does not fit a Lambda answer) or with only the page number."""
        return {'page': 1, 'perPage': settings.EXPORT_MAX_PER_PAGE}


class SortOrder(StrEnum):
    LATEST_FIRST = 'LatestFirst'
    OLDEST_FIRST = 'OldestFirst'


def _sort_order(value: Any) -> Any:
    """FT writes `LatestFirst` in its field table and `latestFirst` in its example: ignore case."""
    if isinstance(value, str):
        return next((order for order in SortOrder if order.lower() == value.lower()), value)
    return value


class EventsRequest(_Request):
    start_date: GmtDate
    end_date: GmtDate | None = None
    filters: EventFilters = EventFilters()
    paging: PagingRequest | None = None
    sort_order: Annotated[SortOrder, BeforeValidator(_sort_order)] = SortOrder.LATEST_FIRST


class Period(StrEnum):
    MONTH = 'month'
    WEEK = 'week'  # ISO weeks: Monday 00:00 GMT to the next Monday
    DAY = 'day'


def _period(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class CountEventsRequest(_Request):
    start_date: GmtDate
    end_date: GmtDate
    group_by_period: Annotated[Period, BeforeValidator(_period)]
    filters: EventFilters = EventFilters()


class _Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ExportedUser(_Response):
    realm: list[str]
    groups: list[str]
    id: str
    roles: list[str]


class ExportedEvent(_Response):
    """One event as FT's export shows it; fields in the order of FT's example."""

    app_name: str
    app_version: str
    content_locale: str
    datetime: int  # epoch milliseconds
    id: str
    name: str
    offline: bool
    parameters: dict[str, Any]
    session_id: str
    tenant_id: str
    ui_locale: str
    user: ExportedUser
    user_agent: str
    user_ip: str


class PagingResponse(_Response):
    page: int
    per_page: int
    total_count: int
    last_page: bool


class EventsResponse(_Response):
    start_date: str
    end_date: str
    paging: PagingResponse
    results: list[ExportedEvent]


class PeriodCount(_Response):
    period_start_date: str
    period_end_date: str  # exclusive: the next period's start
    event_count: int


class NameCounts(_Response):
    name: str
    periods: list[PeriodCount]


class CountEventsResponse(_Response):
    start_date: str
    end_date: str
    group_by_period: Period
    results: list[NameCounts]
