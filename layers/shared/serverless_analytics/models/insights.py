"""The insights family's contract (Coder's `/api/v2/insights/*`): the parsed requests and the answers, in Coder's
field names and order (`codersdk/insights.go`, `codersdk/deployment.go`; spec insights-api-semantics §1-§5).

Answers serialise as Coder's Go structs do: lists are `[]`, never `null`; `omitempty` fields (`report` and
`interval_reports` of the template answer, a parameter's `options`) are left out when absent or empty; times are
RFC 3339 as Go writes a `time.Time` (fraction without trailing zeros, `Z` for a zero offset); floats with no
fraction are written as integers, as Go's encoder does (`-1`, not `-1.0`).
"""

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_serializer,
    model_serializer,
)

DAY_SECONDS = 86_400
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def go_rfc3339(value: datetime) -> str:
    """`value` as Go's `time.Time` marshals it (RFC 3339 with nanoseconds): in its own offset, `Z` for zero; a naive
    value is taken as UTC."""
    clock = f'{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}'
    fraction = f'.{value.microsecond:06d}'.rstrip('0') if value.microsecond else ''
    return clock + fraction + _go_zone(value.utcoffset() or timedelta(0))


def _go_zone(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return 'Z'
    minutes = abs(seconds) // 60
    return f'{"-" if seconds < 0 else "+"}{minutes // 60:02d}:{minutes % 60:02d}'


def go_rfc3339_utc(value: datetime) -> str:
    return go_rfc3339(value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))


def go_float(value: float) -> float | int:
    """Go's encoder writes a float64 without a fraction as an integer (`-1`, `31`); others as the shortest repr,
    which Python's is too (`15.100000381469727`)."""
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


_TIME_SCHEMA = WithJsonSchema({'type': 'string', 'format': 'date-time'})
# A time echoed in its own offset (the request's), and one always written in UTC.
GoTime = Annotated[datetime, PlainSerializer(go_rfc3339, return_type=str), _TIME_SCHEMA]
UtcTime = Annotated[datetime, PlainSerializer(go_rfc3339_utc, return_type=str), _TIME_SCHEMA]
GoFloat = Annotated[float, PlainSerializer(go_float), WithJsonSchema({'type': 'number'})]
TemplateIds = Annotated[list[UUID], BeforeValidator(_none_as_empty)]


class InsightsReportInterval(StrEnum):
    DAY = 'day'
    WEEK = 'week'

    @property
    def days(self) -> int:
        return 1 if self is InsightsReportInterval.DAY else 7


class TemplateInsightsSection(StrEnum):
    INTERVAL_REPORTS = 'interval_reports'
    REPORT = 'report'


class TemplateAppsType(StrEnum):
    BUILTIN = 'builtin'
    APP = 'app'


class UserStatus(StrEnum):
    ACTIVE = 'active'
    DORMANT = 'dormant'
    SUSPENDED = 'suspended'


DEFAULT_SECTIONS = (TemplateInsightsSection.INTERVAL_REPORTS, TemplateInsightsSection.REPORT)


# --- Parsed requests (logic.coder_params builds them; every value has passed Coder's checks) ---


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra='forbid')


class UserInsightsParams(_Params):
    """`/insights/user-activity` and `/insights/user-latency`: the window as sent, each time in its own offset."""

    start_time: AwareDatetime
    end_time: AwareDatetime
    template_ids: list[UUID] = []


class TemplateInsightsParams(UserInsightsParams):
    """`/insights/templates`; `interval` None when not asked (no interval reports)."""

    interval: InsightsReportInterval | None = None
    sections: list[TemplateInsightsSection] = list(DEFAULT_SECTIONS)

    @property
    def wants_report(self) -> bool:
        return TemplateInsightsSection.REPORT in self.sections

    @property
    def wants_interval_reports(self) -> bool:
        return self.interval is not None and TemplateInsightsSection.INTERVAL_REPORTS in self.sections


class DausParams(_Params):
    """`/insights/daus` and `/templates/{template}/daus`: Coder's `tz_offset` (hours, east-positive as Coder's
    server reads it, unbounded: anything `strconv.Atoi` takes), or an IANA `timezone` (ours; never both)."""

    tz_offset: int = 0
    timezone: ZoneInfo | None = None


class UserStatusCountsParams(DausParams):
    """`/insights/user-status-counts`; `interval` is the step in seconds between points, as sent."""

    interval: int = DAY_SECONDS

    @property
    def step_seconds(self) -> int:
        """The step Coder's query uses: the value converted to int32 as Go converts it, and one day when <= 0."""
        wrapped = (self.interval - INT32_MIN) % 2**32 + INT32_MIN
        return wrapped if wrapped > 0 else DAY_SECONDS


# --- Answers ---


class _Answer(BaseModel):
    """An answer serialised as Coder's Go struct: the fields named in `omit_when_empty` left out when None or empty
    (Go's `omitempty`)."""

    model_config = ConfigDict(extra='forbid')
    omit_when_empty: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode='wrap')
    def _omit_empty(self, handler: SerializerFunctionWrapHandler):  # no return type: the schema stays the fields
        data = handler(self)
        for name in self.omit_when_empty:
            if data.get(name) in (None, [], ''):
                data.pop(name, None)
        return data


class TemplateAppUsage(_Answer):
    template_ids: TemplateIds = []
    type: TemplateAppsType
    display_name: str
    slug: str
    icon: str
    seconds: int
    times_used: int = 0


class TemplateParameterOption(_Answer):
    name: str
    description: str
    value: str
    icon: str


class TemplateParameterValue(_Answer):
    value: str
    count: int


class TemplateParameterUsage(_Answer):
    omit_when_empty = ('options',)

    template_ids: TemplateIds = []
    display_name: str
    name: str
    type: str
    description: str
    options: list[TemplateParameterOption] = []
    values: Annotated[list[TemplateParameterValue], BeforeValidator(_none_as_empty)] = []


class TemplateInsightsReport(_Answer):
    start_time: GoTime
    end_time: GoTime
    template_ids: TemplateIds = []
    active_users: int
    apps_usage: Annotated[list[TemplateAppUsage], BeforeValidator(_none_as_empty)] = []
    parameters_usage: Annotated[list[TemplateParameterUsage], BeforeValidator(_none_as_empty)] = []


class TemplateInsightsIntervalReport(_Answer):
    start_time: GoTime
    end_time: GoTime
    template_ids: TemplateIds = []
    interval: InsightsReportInterval
    active_users: int


class TemplateInsightsResponse(_Answer):
    """`report` left out when the section was not asked for, `interval_reports` when there are none."""

    omit_when_empty = ('report', 'interval_reports')

    report: TemplateInsightsReport | None = None
    interval_reports: list[TemplateInsightsIntervalReport] = []


class _InsightsUser(_Answer):
    """The fields Coder's per-user insights rows begin with, in its order."""

    template_ids: TemplateIds = []
    user_id: str
    username: str
    avatar_url: str


class UserActivity(_InsightsUser):
    seconds: int


class UserActivityInsightsReport(_Answer):
    start_time: GoTime
    end_time: GoTime
    template_ids: TemplateIds = []
    users: Annotated[list[UserActivity], BeforeValidator(_none_as_empty)] = []


class UserActivityInsightsResponse(_Answer):
    report: UserActivityInsightsReport


class ConnectionLatency(_Answer):
    p50: GoFloat
    p95: GoFloat


class UserLatency(_InsightsUser):
    latency_ms: ConnectionLatency


class UserLatencyInsightsReport(_Answer):
    start_time: GoTime
    end_time: GoTime
    template_ids: TemplateIds = []
    users: Annotated[list[UserLatency], BeforeValidator(_none_as_empty)] = []


class UserLatencyInsightsResponse(_Answer):
    report: UserLatencyInsightsReport


class DAUEntry(_Answer):
    date: date  # written `2006-01-02`, no time and no zone (Coder since PR #11962)
    amount: int


class DAUsResponse(_Answer):
    entries: Annotated[list[DAUEntry], BeforeValidator(_none_as_empty)] = []
    tz_hour_offset: int


class UserStatusChangeCount(_Answer):
    date: UtcTime
    count: int


class GetUserStatusCountsResponse(_Answer):
    """One list of points per status that occurs; keys in alphabetical order, as Go writes a map."""

    status_counts: dict[UserStatus, list[UserStatusChangeCount]] = {}

    @field_serializer('status_counts', mode='wrap')
    def _sorted_statuses(self, value: Any, handler: SerializerFunctionWrapHandler):  # untyped: keeps the schema
        return dict(sorted(handler(value).items()))


# --- Errors (`codersdk.Response`) ---


class CoderValidationError(BaseModel):
    field: str
    detail: str


class CoderResponse(_Answer):
    """Coder's body for every refusal and failure: `detail` and `validations` left out when empty."""

    omit_when_empty = ('detail', 'validations')

    message: str
    detail: str = ''
    validations: list[CoderValidationError] = Field(default_factory=list)
