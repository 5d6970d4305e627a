"""The ingestion request (seed contract plus DESIGN §3 additions) and the canonical event record."""

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticSerializationError, core_schema, to_json
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from serverless_analytics import clock
from serverless_analytics.config import get_settings

Category = Literal['page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature', 'system']
Priority = Literal['low', 'medium', 'high', 'critical']

ShortText = Annotated[str, Field(max_length=256)]
UrlText = Annotated[str, Field(max_length=2048)]
NameList = Annotated[list[ShortText], Field(max_length=100)]


class UserInfo(BaseModel):
    """The user as the events export shows it (Fluid Topics `user` object)."""

    id: ShortText | None = None
    realm: NameList = []
    groups: NameList = []
    roles: NameList = []
    username: ShortText | None = None
    avatar_url: UrlText | None = None


# The times an event may carry, in one place. A clock reading (`timestamp`, `sent_at`) before 1970 or from 2100 on
# is no reading (year 1, a negative Unix number); 1970 stays readable because a reset device clock shows it and
# `sent_at` corrects it. The event time (corrected with `sent_at`) must be 2000 or later: an older one is no
# product-analytics backfill but a broken clock (or a Unix number like 123), and it would make lake partitions for
# years no query asks about.
# A time ahead of the receive time is clamped to it, not refused (FUTURE_TOLERANCE_SECONDS); the 2100 bound keeps
# every sum of a receive time and a clock skew far inside what a datetime holds.
CLOCK_READINGS_FROM = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_READINGS_BEFORE = datetime(2100, 1, 1, tzinfo=UTC)
EVENT_TIMES_FROM = datetime(2000, 1, 1, tzinfo=UTC)
ClockReading = Annotated[AwareDatetime, Field(ge=CLOCK_READINGS_FROM, lt=CLOCK_READINGS_BEFORE)]

# A refused `properties` is echoed in the 422 as `input` down to this depth: the answer's JSON encoder recurses
# once per level and shares Python's recursion limit (1000) with the frames below it.
ECHO_MAX_DEPTH = 100


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace('+00:00', 'Z')


class JsonObject(dict):
    """A properties object that keeps its compact JSON text, made once for both the size cap and the lake."""

    __slots__ = ('json',)
    json: str


class _RefusedProperties(dict):
    """Properties being refused: a copy JSON can carry, which pydantic reports as the 422's `input` (what was sent
    may hold NaN, which no valid JSON can echo, or nest deeper than an encoder goes), and the error to raise."""

    __slots__ = ('error',)
    error: ValueError


def _nested_deeper_than(value: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether a JSON container nests more than `levels` levels (itself being the first).

    Recursive, but never deeper than `levels`, so no stack to exhaust."""
    for child in value.values() if isinstance(value, dict) else value:
        if isinstance(child, dict | list) and (levels <= 1 or _nested_deeper_than(child, levels - 1)):
            return True
    return False


def _first_non_finite(properties: dict[str, Any]) -> tuple[str, float] | None:
    """The path (`properties.a[0]`) and value of the first NaN or infinity, in document order."""
    pending: list[tuple[str, Any]] = [('properties', properties)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path, value
        if isinstance(value, dict):
            pending.extend(reversed([(f'{path}.{key}', child) for key, child in value.items()]))
        elif isinstance(value, list):
            pending.extend(reversed([(f'{path}[{index}]', child) for index, child in enumerate(value)]))
    return None


def _json_name(number: float) -> str:
    """How JavaScript writes a number that JSON has no literal for."""
    return 'NaN' if math.isnan(number) else 'Infinity' if number > 0 else '-Infinity'


def _echoable(value: Any, levels: int = ECHO_MAX_DEPTH) -> Any:
    """`value` as valid JSON can carry it: non-finite numbers as their names, containers below `levels` as '...'."""
    if isinstance(value, float) and not math.isfinite(value):
        return _json_name(value)
    if not isinstance(value, dict | list):
        return value
    if levels == 0:
        return '...'
    if isinstance(value, dict):
        return {key: _echoable(child, levels - 1) for key, child in value.items()}
    return [_echoable(child, levels - 1) for child in value]


def _encoded_properties(properties: dict[str, Any]) -> bytes:
    """The properties as compact UTF-8 JSON; raises the refusal of anything the lake or JSON cannot carry."""
    settings = get_settings()
    if _nested_deeper_than(properties, settings.MAX_PROPERTIES_DEPTH):
        raise ValueError(f'properties must be nested at most {settings.MAX_PROPERTIES_DEPTH} levels deep')
    try:
        encoded = to_json(properties)  # compact UTF-8, like json.dumps(separators=(',', ':')) but ~5x faster
    except PydanticSerializationError:  # only a lone surrogate, which Python's JSON parser lets through
        raise ValueError('properties must hold valid Unicode text (a lone surrogate cannot be stored)') from None
    # to_json writes NaN and infinities as JavaScript does; a string holding those letters only costs a walk
    if (b'NaN' in encoded or b'Infinity' in encoded) and (found := _first_non_finite(properties)):
        path, number = found
        raise PydanticCustomError(
            'finite_number',
            'properties should hold finite numbers only (JSON has no NaN or Infinity): {path} is {value}',
            {'path': path, 'value': _json_name(number)},
        )
    if len(encoded) > settings.MAX_PROPERTIES_BYTES:
        raise ValueError(
            f'properties must be at most {settings.MAX_PROPERTIES_BYTES} bytes of JSON, got {len(encoded)}'
        )
    return encoded


def _kept(properties: dict[str, Any]) -> JsonObject:
    kept = JsonObject(properties)
    kept.json = _encoded_properties(properties).decode()
    return kept


def _screened(value: Any) -> Any:
    """An object kept with its JSON text, or its refusal; anything else is left to the type's own errors."""
    if not isinstance(value, dict):
        return value
    try:
        return _kept(value)
    except (ValueError, PydanticCustomError) as error:
        refused = _RefusedProperties(_echoable(value))
        refused.error = error
        return refused


def _refused_or_kept(value: Any, validate: Callable[[Any], Any]) -> Any:
    if isinstance(value, _RefusedProperties):
        raise value.error  # pydantic reports this validator's input, the copy JSON can carry, as the error's
    validated = validate(value)
    if not isinstance(value, JsonObject):
        return validated
    kept = JsonObject(validated)  # validation copied the object into a plain dict
    kept.json = value.json
    return kept


class _PropertiesSchema:
    """The properties object, checked (depth, numbers, text, size) and kept with its compact JSON text.

    From JSON (the ingest fast path), the object is parsed and checked as it is: a refusal there carries what was
    sent as its `input`, NaN included, but the HTTP layer answers a body that fails to validate by validating it
    again from Python objects. From Python, the object is screened before validation, so that a refusal's `input`
    is a copy that valid JSON can carry."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        plain = handler(dict[str, Any])
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(_kept, plain),
            python_schema=core_schema.no_info_before_validator_function(
                _screened, core_schema.no_info_wrap_validator_function(_refused_or_kept, plain)
            ),
        )


Properties = Annotated[dict[str, Any], _PropertiesSchema]


class TrackEventRequest(BaseModel):
    """One event as a tracker posts it to `POST /api/v1/analytics`."""

    event_name: Annotated[str, Field(min_length=1, max_length=100, description='Event name')]
    category: Annotated[Category, Field(description='Event category')] = 'user_action'
    priority: Annotated[Priority, Field(description='Event priority')] = 'medium'
    properties: Annotated[Properties | None, Field(description='Event properties')] = None
    # Validated before `timestamp`, whose event-time check corrects with it.
    sent_at: Annotated[
        ClockReading | None, Field(description='Client clock when the event was sent, for skew correction')
    ] = None
    timestamp: Annotated[ClockReading | None, Field(description='Event timestamp (defaults to server time)')] = None
    session_id: Annotated[ShortText | None, Field(description='Session identifier')] = None
    page_url: Annotated[UrlText | None, Field(description='Page URL where event occurred')] = None
    referrer: Annotated[UrlText | None, Field(description='Referrer URL')] = None
    user_agent: Annotated[Annotated[str, Field(max_length=1024)] | None, Field(description='User agent string')] = None

    event_id: Annotated[
        UUID | None, Field(description='Client-made id; a retried event with the same id is counted once')
    ] = None
    user_id: ShortText | None = None
    user: UserInfo | None = None
    page_title: Annotated[str, Field(max_length=1024)] | None = None
    page_path: UrlText | None = None
    app_name: ShortText | None = None
    app_version: ShortText | None = None
    tenant_id: ShortText | None = None
    content_locale: ShortText | None = None
    ui_locale: ShortText | None = None
    offline: bool = False
    template_id: ShortText | None = None

    @field_validator('timestamp')
    @classmethod
    def _event_time_in_window(cls, timestamp: datetime | None, info: ValidationInfo) -> datetime | None:
        if timestamp is None or 'sent_at' not in info.data:  # an invalid sent_at is refused already
            return timestamp
        sent_at = info.data['sent_at']
        # Powertools validates a moment before the route reads its receive time; that one is later, so the event
        # time stored can only be later than the one checked here, never before EVENT_TIMES_FROM.
        moment = timestamp if sent_at is None else clock.now() + (timestamp - sent_at)
        # the year first: comparing a time that has an offset costs ~0.7 µs, a tenth of an event's validation
        if moment.year <= EVENT_TIMES_FROM.year and moment < EVENT_TIMES_FROM:
            correction = '' if sent_at is None else ' (the timestamp corrected for the client clock with sent_at)'
            raise PydanticCustomError(
                'greater_than_equal',
                'Event time should be on or after {ge}, got {event_time}' + correction,
                {'ge': _iso_utc(EVENT_TIMES_FROM), 'event_time': _iso_utc(moment)},
            )
        return timestamp

    @model_validator(mode='after')
    def _user_ids_agree(self) -> 'TrackEventRequest':
        if self.user_id and self.user and self.user.id and self.user_id != self.user.id:
            raise ValueError('user_id and user.id must be equal when both are given')
        return self

    @property
    def properties_json(self) -> str:
        return self.properties.json if isinstance(self.properties, JsonObject) else '{}'

    def __repr__(self) -> str:
        return f'TrackEventRequest(event_name={self.event_name!r})'


class TrackBatchRequest(BaseModel):
    """`POST /api/v1/analytics/batch`."""

    def __repr__(self) -> str:
        # Powertools logs route arguments with an eager f-string; the full repr of 100 events costs more
        # than validating them.
        return f'TrackBatchRequest(events={len(self.events)}, client_id={self.client_id!r})'

    events: Annotated[
        list[TrackEventRequest], Field(min_length=1, max_length=100, description='List of events (max 100)')
    ]
    client_id: Annotated[ShortText | None, Field(description='Client identifier')] = None


class CanonicalEvent(TypedDict):
    """The one event record every API family reads: a Kinesis record, a lake row, a DynamoDB item.

    A TypedDict rather than a model: it is built only by `enrich` from an already validated request, and
    constructing a 38-field model per event would cost a quarter of the ingest path. Its reader validates it
    (the stream writer, against the Arrow row schema; `pydantic.TypeAdapter(CanonicalEvent)` works too).
    `properties` is JSON text because that is how the lake stores it (one string column).
    """

    event_id: str
    project_id: str
    name: str
    category: Category
    priority: Priority
    timestamp: datetime
    received_at: datetime
    sent_at: datetime | None
    timestamp_clamped: bool
    session_id: str | None
    user_id: str | None
    user_realm: list[str]
    user_groups: list[str]
    user_roles: list[str]
    username: str | None
    avatar_url: str | None
    page_url: str | None
    page_host: str | None
    page_path: str | None
    page_title: str | None
    referrer: str | None
    user_agent: str | None
    browser_family: str | None
    browser_version: str | None
    os_family: str | None
    os_version: str | None
    device_family: str | None
    is_bot: bool
    user_ip: str | None
    app_name: str | None
    app_version: str | None
    tenant_id: str | None
    content_locale: str | None
    ui_locale: str | None
    offline: bool
    template_id: str | None
    client_id: str | None
    properties: str
