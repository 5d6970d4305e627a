"""Seeded, realistic demo traffic for the ingestion API: users in groups, sessions of page views and actions,
a few apps and versions, templates, latency samples, every category, spread over recent days; and the user the
README's examples filter on (`u42` in group `beta`), with page views in the last 30 days whatever the count.
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from local import coder_telemetry

BATCH_PATH = '/api/v1/analytics/batch'
CATEGORIES = ('page_view', 'user_action', 'trading', 'auth', 'error', 'performance', 'feature', 'system')
CATEGORY_WEIGHTS = (40, 25, 6, 6, 4, 9, 7, 3)
PRIORITIES = ('low', 'medium', 'high', 'critical')
RECENT_SESSION_SHARE = 0.05
# The README's export example asks for the last 30 days; the README user's sessions start at these shares of it.
README_WINDOW_DAYS = 30
README_SESSION_STARTS = (0.02, 0.15, 0.4, 0.75)
README_SESSION_SIZE = 4

USER_AGENTS = (
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
)
PAGES = (
    ('/', 'Home'),
    ('/dashboard', 'Dashboard'),
    ('/docs/getting-started', 'Getting started'),
    ('/docs/api/authentication', 'API authentication'),
    ('/markets/eur-usd', 'EUR/USD market'),
    ('/portfolio', 'Portfolio'),
    ('/settings/profile', 'Profile settings'),
    ('/reports/weekly', 'Weekly report'),
    ('/search', 'Search'),
    ('/pricing', 'Pricing'),
)
REFERRERS = ('https://www.google.com/', 'https://github.com/', 'https://news.ycombinator.com/', None, None, None)
APPS = {'web-portal': ('2.3.0', '2.4.0', '2.4.1'), 'mobile-app': ('5.1.2', '5.2.0'), 'admin-console': ('1.9.3',)}
TEMPLATES = ('tpl-docker', 'tpl-kubernetes', 'tpl-aws-linux', 'tpl-gcp-vm', 'tpl-devcontainer')
GROUPS = ('engineering', 'sales', 'support', 'finance', 'marketing')
ROLES = ('viewer', 'editor', 'admin', 'trader')
REALMS = ('employees', 'partners', 'customers')
LOCALES = ('en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP')
TENANTS = ('acme', 'globex', 'initech')
ACTIONS = {
    'user_action': ('button_click', 'form_submit', 'search', 'download', 'share'),
    'trading': ('order_placed', 'order_cancelled', 'trade_executed'),
    'auth': ('login', 'logout', 'password_reset', 'mfa_challenge'),
    'error': ('api_error', 'js_exception', 'payment_failed'),
    'performance': ('page_load', 'api_latency', 'workspace_build'),
    'feature': ('feature_enabled', 'dark_mode_toggled', 'export_used', 'workspace_started'),
    'system': ('cache_warmed', 'config_reloaded', 'heartbeat'),
}


@dataclass(frozen=True)
class DemoUser:
    id: str
    username: str
    realm: list[str]
    groups: list[str]
    roles: list[str]
    user_agent: str
    ui_locale: str
    content_locale: str
    tenant_id: str
    app_name: str


README_USER = DemoUser(
    id='u42',
    username='ann',
    realm=['sso'],
    groups=['beta'],
    roles=['admin'],
    user_agent=USER_AGENTS[0],
    ui_locale='en-GB',
    content_locale='en-US',
    tenant_id='acme',
    app_name='web-portal',
)


def _users(rng: random.Random, count: int) -> list[DemoUser]:
    users = []
    for index in range(count):
        username = f'user{index:03d}'
        users.append(
            DemoUser(
                id=f'u-{index:04d}',
                username=username,
                realm=[rng.choice(REALMS)],
                groups=sorted(rng.sample(GROUPS, rng.randint(1, 2))),
                roles=sorted(rng.sample(ROLES, rng.randint(1, 2))),
                user_agent=rng.choice(USER_AGENTS),
                ui_locale=rng.choice(LOCALES),
                content_locale=rng.choice(LOCALES),
                tenant_id=rng.choice(TENANTS),
                app_name=rng.choice(list(APPS)),
            )
        )
    return users


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def _properties(rng: random.Random, category: str, name: str) -> dict[str, Any]:
    if category == 'performance':
        return {'latency_ms': round(rng.lognormvariate(4.8, 0.6), 1), 'metric': name}
    if category == 'trading':
        return {'symbol': rng.choice(('EURUSD', 'AAPL', 'BTCUSD')), 'quantity': rng.randint(1, 500)}
    if category == 'error':
        return {'code': rng.choice((400, 404, 500, 502)), 'message': 'Request failed'}
    if category == 'user_action':
        return {'element': rng.choice(('nav', 'cta', 'table-row', 'modal')), 'value': rng.randint(1, 10)}
    return {}


def _session(
    rng: random.Random, user: DemoUser, start: datetime, size: int, version: str, *, lands_on_page: bool = False
) -> Iterator[dict[str, Any]]:
    session_id = f'sess-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}'
    moment = start
    referrer = rng.choice(REFERRERS)
    template_id = rng.choice(TEMPLATES)
    for index in range(size):
        category = 'page_view' if lands_on_page and index == 0 else rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        path, title = rng.choice(PAGES)
        name = 'page_view' if category == 'page_view' else rng.choice(ACTIONS[category])
        event = {
            'event_name': name,
            'category': category,
            'priority': 'high' if category == 'error' else rng.choices(PRIORITIES, (30, 55, 12, 3))[0],
            'properties': _properties(rng, category, name),
            'timestamp': _iso(moment),
            'session_id': session_id,
            'page_url': f'https://app.example.com{path}',
            'page_title': title,
            'referrer': referrer,
            'user_agent': user.user_agent,
            'event_id': str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            'user_id': user.id,
            'user': {
                'id': user.id,
                'realm': user.realm,
                'groups': user.groups,
                'roles': user.roles,
                'username': user.username,
                'avatar_url': f'https://avatars.example.com/{user.username}.png',
            },
            'app_name': user.app_name,
            'app_version': version,
            'tenant_id': user.tenant_id,
            'content_locale': user.content_locale,
            'ui_locale': user.ui_locale,
            'offline': rng.random() < 0.02,
            'template_id': template_id,
        }
        yield {key: value for key, value in event.items() if value not in (None, {})}
        referrer = f'https://app.example.com{path}'
        moment += timedelta(seconds=rng.randint(3, 240))


def _session_start(rng: random.Random, now: datetime, days: int) -> datetime:
    """Mostly spread over the period, with some sessions in the last hours so 'today' has traffic too."""
    if rng.random() < RECENT_SESSION_SHARE:
        return now - timedelta(minutes=rng.uniform(5, 6 * 60))
    return now - timedelta(days=rng.random() * days)


def _readme_user_events(seed: int, now: datetime, days: int) -> list[dict[str, Any]]:
    """Sessions of the README user that each open with a page view, all inside the README's window and `days`."""
    rng = random.Random(f'readme-{seed}')  # its own stream: the other users' traffic stays what it was
    window = timedelta(days=min(days, README_WINDOW_DAYS))
    events: list[dict[str, Any]] = []
    for share in README_SESSION_STARTS:
        version = rng.choice(APPS[README_USER.app_name])
        session = _session(rng, README_USER, now - window * share, README_SESSION_SIZE, version, lands_on_page=True)
        events += [event for event in session if event['timestamp'] <= _iso(now)]
    return events


def generate(count: int, days: int = 60, seed: int = 42, users: int = 120, now: datetime | None = None) -> list[dict]:
    """`count` events (request bodies for the ingestion API), deterministic for a seed and `now`; the README user's
    come first, so even a few events hold what the README's examples filter on."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    population = _users(rng, users)
    events = _readme_user_events(seed, now, days)[:count]
    while len(events) < count:
        user = rng.choice(population)
        version = rng.choice(APPS[user.app_name])
        size = min(rng.randint(3, 12), count - len(events))
        events += [
            e for e in _session(rng, user, _session_start(rng, now, days), size, version) if e['timestamp'] <= _iso(now)
        ]
    return events


CODER_USERS = 6
CODER_TEMPLATES = 3
# Last seen longer ago than the 90-day dormancy: the daily status job makes this user dormant.
DORMANT_DAYS_AGO = 100


def coder_events(days: int, now: datetime | None = None, seed: int = 7) -> list[dict[str, Any]]:
    """Coder-shaped telemetry for the insights routes (local.coder_telemetry: templates with apps and parameters,
    agent reports every 30 s, app sessions, builds, suspended and deleted users) over the last `days` days up to
    now, and one user last seen DORMANT_DAYS_AGO days ago; none for `days` 0."""
    if days <= 0:
        return []
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    telemetry = coder_telemetry.generate(
        seed=seed, start=start, days=days + 1, users=CODER_USERS, templates=CODER_TEMPLATES
    )
    events = [event for event in telemetry.events if datetime.fromisoformat(event['timestamp']) <= now]
    silent = coder_telemetry.user_body(
        str(uuid.UUID(int=seed, version=4)), 'olivia', 'https://avatars.example.com/olivia.png'
    )
    events.append(coder_telemetry.page_view_event(now - timedelta(days=DORMANT_DAYS_AGO), silent))
    return events


def load(url: str, api_key: str, events: Sequence[dict[str, Any]], batch_size: int = 100) -> int:
    """Post events through `POST /api/v1/analytics/batch`; returns how many were queued."""
    queued = 0
    with requests.Session() as session:
        session.headers['Authorization'] = f'Bearer {api_key}'
        for start in range(0, len(events), batch_size):
            response = session.post(
                f'{url}{BATCH_PATH}', json={'events': list(events[start : start + batch_size])}, timeout=30
            )
            response.raise_for_status()
            queued += response.json()['events_queued']
    return queued
