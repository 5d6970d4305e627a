"""The ingestion request (seed contract plus DESIGN §3 additions) and the canonical event record."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

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


def _json_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_json_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_json_depth(v) for v in value), default=0)
    return 0


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

    _properties_json: str = PrivateAttr(default='{}')

    @field_validator('properties')
    @classmethod
    def _cap_properties(cls, properties: dict[str, Any] | None) -> dict[str, Any] | None:
        if properties is None:
            return None
        settings = get_settings()
        if _json_depth(properties) > settings.MAX_PROPERTIES_DEPTH:
            raise ValueError(f'properties must be nested at most {settings.MAX_PROPERTIES_DEPTH} levels deep')
        size = len(json.dumps(properties, separators=(',', ':'), ensure_ascii=False).encode())
        if size > settings.MAX_PROPERTIES_BYTES:
            raise ValueError(f'properties must be at most {settings.MAX_PROPERTIES_BYTES} bytes of JSON, got {size}')
        return properties

    @model_validator(mode='after')
    def _user_ids_agree(self) -> 'TrackEventRequest':
        if self.user_id and self.user and self.user.id and self.user_id != self.user.id:
            raise ValueError('user_id and user.id must be equal when both are given')
        if self.properties:
            self._properties_json = json.dumps(self.properties, separators=(',', ':'), ensure_ascii=False)
        return self

    @property
    def properties_json(self) -> str:
        return self._properties_json


class TrackBatchRequest(BaseModel):
    """`POST /api/v1/analytics/batch`."""

    events: Annotated[
        list[TrackEventRequest], Field(min_length=1, max_length=100, description='List of events (max 100)')
    ]
    client_id: Annotated[ShortText | None, Field(description='Client identifier')] = None


class CanonicalEvent(BaseModel):
    """The one event record every API family reads: a Kinesis record, a lake row, a DynamoDB item.

    `properties` is kept as JSON text because that is how the lake stores it (one string column).
    """

    model_config = ConfigDict(frozen=True)

    event_id: str
    project_id: str
    name: str
    category: Category
    priority: Priority
    timestamp: datetime
    received_at: datetime
    sent_at: datetime | None = None
    timestamp_clamped: bool = False
    session_id: str | None = None
    user_id: str | None = None
    user_realm: list[str] = []
    user_groups: list[str] = []
    user_roles: list[str] = []
    username: str | None = None
    avatar_url: str | None = None
    page_url: str | None = None
    page_host: str | None = None
    page_path: str | None = None
    page_title: str | None = None
    referrer: str | None = None
    user_agent: str | None = None
    browser_family: str | None = None
    browser_version: str | None = None
    os_family: str | None = None
    os_version: str | None = None
    device_family: str | None = None
    is_bot: bool = False
    user_ip: str | None = None
    app_name: str | None = None
    app_version: str | None = None
    tenant_id: str | None = None
    content_locale: str | None = None
    ui_locale: str | None = None
    offline: bool = False
    template_id: str | None = None
    client_id: str | None = None
    properties: str = '{}'
