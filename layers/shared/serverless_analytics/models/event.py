"""The ingestion request (seed contract plus DESIGN §3 additions) and the canonical event record."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator
from pydantic_core import to_json
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

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


class JsonObject(dict):
    """A properties object that keeps its compact JSON text, made once for both the size cap and the lake."""

    __slots__ = ('json',)


def _nested_deeper_than(value: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether a JSON container nests more than `levels` levels (itself being the first).

    Recursive, but never deeper than `levels`, so no stack to exhaust."""
    for child in value.values() if isinstance(value, dict) else value:
        if isinstance(child, dict | list) and (levels <= 1 or _nested_deeper_than(child, levels - 1)):
            return True
    return False


class TrackEventRequest(BaseModel):
    """One event as a tracker posts it to `POST /api/v1/analytics`."""

    event_name: Annotated[str, Field(min_length=1, max_length=100, description='Event name')]
    category: Annotated[Category, Field(description='Event category')] = 'user_action'
    priority: Annotated[Priority, Field(description='Event priority')] = 'medium'
    properties: Annotated[dict[str, Any] | None, Field(description='Event properties')] = None
    timestamp: Annotated[AwareDatetime | None, Field(description='Event timestamp (defaults to server time)')] = None
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
    sent_at: Annotated[
        AwareDatetime | None, Field(description='Client clock when the event was sent, for skew correction')
    ] = None

    @field_validator('properties')
    @classmethod
    def _cap_properties(cls, properties: dict[str, Any] | None) -> dict[str, Any] | None:
        if properties is None:
            return None
        # Powertools validates the route's body model itself, with no validation context to pass settings in.
        settings = get_settings()
        if _nested_deeper_than(properties, settings.MAX_PROPERTIES_DEPTH):
            raise ValueError(f'properties must be nested at most {settings.MAX_PROPERTIES_DEPTH} levels deep')
        encoded = to_json(properties)  # compact UTF-8, like json.dumps(separators=(',', ':')) but ~5x faster
        size = len(encoded)
        if size > settings.MAX_PROPERTIES_BYTES:
            raise ValueError(f'properties must be at most {settings.MAX_PROPERTIES_BYTES} bytes of JSON, got {size}')
        kept = JsonObject(properties)
        kept.json = encoded.decode()
        return kept

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
