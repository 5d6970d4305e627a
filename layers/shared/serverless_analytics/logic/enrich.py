"""Server-side enrichment: receive time, clock-skew correction, IP anonymisation, user-agent parsing."""

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from serverless_analytics.config import IpAnonymization, Settings
from serverless_analytics.models.event import CanonicalEvent, TrackEventRequest


def _to_ms(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class RequestContext:
    """What the HTTP request says about where events come from."""

    project_id: str
    received_at: datetime
    source_ip: str | None = None
    header_user_agent: str | None = None
    client_id: str | None = None

    @cached_property
    def received_at_ms(self) -> datetime:
        """`received_at` in UTC at the lake's precision: made once for all the events of a request."""
        return _to_ms(self.received_at)


@dataclass(frozen=True)
class ParsedUserAgent:
    browser_family: str | None
    browser_version: str | None
    os_family: str | None
    os_version: str | None
    device_family: str | None
    is_bot: bool


NO_AGENT = ParsedUserAgent(None, None, None, None, None, False)


def _version(*parts: str | None) -> str | None:
    present = [part for part in parts if part]
    return '.'.join(present) or None


@lru_cache(maxsize=4096)  # trackers send few distinct agents, and parsing one costs ~100x a cache hit
def parse_agent(user_agent: str) -> ParsedUserAgent:
    """The agent's browser, OS and device; an agent the parser fails on is kept unparsed (`NO_AGENT`)."""
    # Imported on first use: loading the parser's rules is ~100 ms that a cold start of a request without
    # a user agent (or a rejected one) should not pay.
    from ua_parser import parse as parse_user_agent

    try:
        result = parse_user_agent(user_agent)
    except Exception:  # noqa: BLE001 - a third party's parser on any client's text: no agent may fail an event
        return NO_AGENT
    agent, os, device = result.user_agent, result.os, result.device
    return ParsedUserAgent(
        browser_family=agent.family if agent else None,
        browser_version=_version(agent.major, agent.minor, agent.patch) if agent else None,
        os_family=os.family if os else None,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device_family=device.family if device else None,
        is_bot=bool(device and device.family == 'Spider'),
    )


@lru_cache(maxsize=4096)
def anonymize_ip(address: str, policy: IpAnonymization) -> str | None:
    """Keep the network, drop the host part: IPv4 to /24, IPv6 to /48 (or drop or keep the address)."""
    if policy is IpAnonymization.DROP:
        return None
    try:
        parsed = ipaddress.ip_address(address)
        if policy is IpAnonymization.NONE:
            return str(parsed)
        prefix = 24 if parsed.version == 4 else 48
        return str(ipaddress.ip_network(f'{parsed}/{prefix}', strict=False).network_address)
    except ValueError:  # not an address: nothing is stored rather than the event refused
        return None


def event_time(request: TrackEventRequest, received_at: datetime, tolerance: timedelta) -> tuple[datetime, bool]:
    """The event's time corrected for client clock skew, clamped when far in the future.

    With `sent_at`, the client clock's error is assumed constant over the send delay (Snowplow's derived
    timestamp, PostHog's rule): time = received_at + (timestamp - sent_at).
    """
    if request.timestamp is None:
        return received_at, False
    moment = request.timestamp
    if request.sent_at is not None:
        moment = received_at + (request.timestamp - request.sent_at)
    if moment > received_at + tolerance:
        return received_at, True
    return _to_ms(moment), False


@lru_cache(maxsize=4096)
def _page_parts(page_url: str | None) -> tuple[str | None, str | None]:
    """The URL's host and path; a URL that does not split (`http://[invalid/`, a host that NFKC-normalises to a
    delimiter) has neither, and the event keeps it as sent."""
    if not page_url:
        return None, None
    try:
        parts = urlsplit(page_url)
    except ValueError:
        return None, None
    return parts.hostname, parts.path or '/'


def enrich(request: TrackEventRequest, context: RequestContext, settings: Settings) -> CanonicalEvent:
    received_at = context.received_at_ms
    timestamp, clamped = event_time(request, received_at, timedelta(seconds=settings.FUTURE_TOLERANCE_SECONDS))
    user_agent = request.user_agent or context.header_user_agent
    agent = parse_agent(user_agent) if user_agent else NO_AGENT
    page_host, page_path = _page_parts(request.page_url)
    user = request.user
    # A dict literal: the ingest path builds one per event, and this is its single biggest cost.
    event: CanonicalEvent = {
        'event_id': str(request.event_id or uuid.uuid4()),
        'project_id': context.project_id,
        'name': request.event_name,
        'category': request.category,
        'priority': request.priority,
        'timestamp': timestamp,
        'received_at': received_at,
        'sent_at': _to_ms(request.sent_at) if request.sent_at else None,
        'timestamp_clamped': clamped,
        'session_id': request.session_id,
        'user_id': request.user_id or (user.id if user else None),
        'user_realm': user.realm if user else [],
        'user_groups': user.groups if user else [],
        'user_roles': user.roles if user else [],
        'username': user.username if user else None,
        'avatar_url': user.avatar_url if user else None,
        'page_url': request.page_url,
        'page_host': page_host,
        'page_path': request.page_path or page_path,
        'page_title': request.page_title,
        'referrer': request.referrer,
        'user_agent': user_agent,
        'browser_family': agent.browser_family,
        'browser_version': agent.browser_version,
        'os_family': agent.os_family,
        'os_version': agent.os_version,
        'device_family': agent.device_family,
        'is_bot': agent.is_bot,
        'user_ip': anonymize_ip(context.source_ip, settings.IP_ANONYMIZATION) if context.source_ip else None,
        'app_name': request.app_name,
        'app_version': request.app_version,
        'tenant_id': request.tenant_id,
        'content_locale': request.content_locale,
        'ui_locale': request.ui_locale,
        'offline': request.offline,
        'template_id': request.template_id,
        'client_id': context.client_id,
        'properties': request.properties_json,
    }
    return event
