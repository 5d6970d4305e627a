"""A seeded generator of Coder-shaped telemetry, as event bodies for `POST /api/v1/analytics/batch`: the local
stack's insights demo data, and the input the tests compare the product with its independent reference on.

The events are the mapping page's (the Coder insights mapping of DESIGN §5, `docs/` and issue 14) and are chosen to exercise
every rule of §2-§5: agent reports every 30 s with gaps, unreliable connection counts and zero latencies, several
workspaces of different templates used at once (the cap at 30), app sessions re-sent as they grow (and once with
smaller values, to be ignored), web terminals, ports and slugs no catalogue defines, page views with and without a
template (and with a template id that is no UUID), builds whose catalogue and parameters change, users who rename,
change avatar, are suspended, deleted, or silent long enough to become dormant.

The list is in sending order: the sends of one app session follow each other, back-dated events come late, and a
re-sent event (same `event_id`) comes after the first. Everything is drawn from one `random.Random(seed)`.
"""

import bisect
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

DAY = timedelta(days=1)
REPORT_EVERY = timedelta(seconds=30)
TOOLS = ('vscode', 'jetbrains', 'reconnecting_pty', 'ssh')
NON_UUID_TEMPLATE = 'legacy-template'
UNKNOWN_SLUG = 'legacy-tool'
PORTS = ('8080', '3000')
PAGE_PATHS = ('/workspaces', '/templates', '/insights', '/users', '/deployment/general')
NAMES = ('alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy')
# Cycled over the users; 'returning' needs more than 90 silent days to become dormant, else it is a developer.
ROLES = ('developer', 'developer', 'suspended', 'web', 'deleted', 'developer', 'returning', 'uncreated')
WORKSPACE_ROLES = ('developer', 'suspended', 'deleted', 'returning', 'uncreated')

# (slug, display name, icon) per catalogue version: version 2 renames and re-icons apps, so the newest
# definition must win (§3).
APPS_V1 = {
    'code-server': ('code-server', '/icon/code.svg'),
    'jupyter': ('Jupyter Notebook', '/icon/jupyter.svg'),
    'filebrowser': ('File Browser', '/icon/database.svg'),
    'pgadmin': ('pgAdmin', '/icon/pgadmin.svg'),
}
APPS_V2 = {**APPS_V1, 'jupyter': ('JupyterLab', '/icon/jupyterlab.svg'), 'filebrowser': ('Files', '/icon/folder.svg')}

# Two region definitions that differ only in their options. Every field of A's first option sorts before B's, so
# any reasonable order of options (JSON text with any key order, or tuples) puts A first (§3 sorting).
REGION_OPTIONS_A = (
    ('Amsterdam', 'A datacenter in the Netherlands', 'a-ams', '/emojis/1f1f3-1f1f1.png'),
    ('Frankfurt', 'Germany', 'eu-fra', '/emojis/1f1e9-1f1ea.png'),
    ('Helsinki', 'Finland', 'eu-hel', '/emojis/1f1eb-1f1ee.png'),
)
REGION_OPTIONS_B = (
    ('Boston', 'B datacenter in the United States', 'b-bos', '/emojis/1f1fa-1f1f8.png'),
    ('Sydney', 'Australia', 'ap-syd', '/emojis/1f1e6-1f1fa.png'),
)
CPU_OPTIONS = (('2 cores', '', '2', ''), ('4 cores', '', '4', ''), ('8 cores', '', '8', ''))
IMAGE_OPTIONS = (('Ubuntu', 'Ubuntu 22.04', 'ubuntu', '/icon/ubuntu.svg'), ('Debian', 'Debian 12', 'debian', ''))


# --- event bodies -------------------------------------------------------------------------------------------


def rfc3339(moment: datetime, offset: timedelta | None = None) -> str:
    """RFC 3339 with milliseconds, `Z` in UTC, or the wall clock at `offset`."""
    if offset:
        return moment.astimezone(timezone(offset)).isoformat(timespec='milliseconds')
    return moment.astimezone(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def user_body(user_id: str, username: str, avatar_url: str) -> dict[str, str]:
    return {'id': user_id, 'username': username, 'avatar_url': avatar_url}


def event_body(
    event_name: str,
    at: datetime,
    user: dict[str, str],
    *,
    event_id: str | None = None,
    category: str = 'system',
    template_id: str | None = None,
    session_id: str | None = None,
    app_name: str | None = None,
    properties: dict[str, Any] | None = None,
    offset: timedelta | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        'event_name': event_name,
        'category': category,
        'timestamp': rfc3339(at, offset),
        'event_id': event_id or str(uuid.uuid4()),
        'user': user,
        'properties': properties or {},
    }
    for name, value in (('template_id', template_id), ('session_id', session_id), ('app_name', app_name)):
        if value is not None:
            body[name] = value
    return body


def agent_stats_event(
    at: datetime,
    user: dict[str, str],
    template_id: str,
    workspace_id: str,
    agent_id: str,
    *,
    event_id: str | None = None,
    connection_count: int = 1,
    latency_ms: float = 0.0,
    vscode: int = 0,
    jetbrains: int = 0,
    reconnecting_pty: int = 0,
    ssh: int = 0,
    sftp: int | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        'workspace_id': workspace_id,
        'agent_id': agent_id,
        'connection_count': connection_count,
        'connection_median_latency_ms': latency_ms,
        'session_count_vscode': vscode,
        'session_count_jetbrains': jetbrains,
        'session_count_reconnecting_pty': reconnecting_pty,
        'session_count_ssh': ssh,
    }
    if sftp is not None:  # optional in the mapping page's table
        properties['session_count_sftp'] = sftp
    return event_body(
        'workspace.agent_stats',
        at,
        user,
        event_id=event_id,
        template_id=template_id,
        session_id=agent_id,
        properties=properties,
    )


def app_session_event(
    started_at: datetime,
    ended_at: datetime,
    user: dict[str, str],
    template_id: str,
    workspace_id: str,
    agent_id: str,
    session_id: str,
    *,
    event_id: str | None = None,
    slug_or_port: str = '',
    access_method: str = 'path',
    requests: int = 1,
) -> dict[str, Any]:
    """One send of an app session; the web terminal is `access_method='terminal'` with an empty slug."""
    properties = {
        'workspace_id': workspace_id,
        'agent_id': agent_id,
        'access_method': access_method,
        'slug_or_port': slug_or_port,
        'session_started_at': rfc3339(started_at),
        'session_ended_at': rfc3339(ended_at),
        'requests': requests,
    }
    return event_body(
        'workspace.app_session',
        started_at,
        user,
        event_id=event_id,
        template_id=template_id,
        session_id=session_id,
        app_name=slug_or_port,
        properties=properties,
    )


def option_body(option: tuple[str, str, str, str]) -> dict[str, str]:
    name, description, value, icon = option
    return {'name': name, 'description': description, 'value': value, 'icon': icon}


def parameter_definition(
    name: str, display_name: str, kind: str, description: str, options: tuple[tuple[str, str, str, str], ...] = ()
) -> dict[str, Any]:
    return {
        'name': name,
        'display_name': display_name,
        'type': kind,
        'description': description,
        'options': [option_body(option) for option in options],
    }


def build_event(
    at: datetime,
    user: dict[str, str],
    template_id: str,
    *,
    workspace_id: str,
    build_number: int,
    event_id: str | None = None,
    workspace_name: str = 'workspace',
    transition: str = 'start',
    template_version_id: str = '',
    apps: list[dict[str, str]] | None = None,
    parameters: list[dict[str, str]] | None = None,
    template_parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    properties = {
        'workspace_id': workspace_id,
        'workspace_name': workspace_name,
        'build_number': build_number,
        'transition': transition,
        'template_version_id': template_version_id,
        'apps': apps or [],
        'parameters': parameters or [],
        'template_parameters': template_parameters or [],
    }
    return event_body('workspace.build', at, user, event_id=event_id, template_id=template_id, properties=properties)


def page_view_event(
    at: datetime,
    user: dict[str, str],
    *,
    event_id: str | None = None,
    template_id: str | None = None,
    path: str = '/workspaces',
    offset: timedelta | None = None,
) -> dict[str, Any]:
    body = event_body(
        'page_view',
        at,
        user,
        event_id=event_id,
        category='page_view',
        template_id=template_id,
        offset=offset,
        properties={'path': path},
    )
    body['page_path'] = path
    return body


def user_event(
    event_name: str, at: datetime, user: dict[str, str], *, event_id: str | None = None, **properties: str
) -> dict[str, Any]:
    """`user.created`, `user.status_changed` or `user.deleted`, with `status`/`previous_status` as keywords."""
    return event_body(event_name, at, user, event_id=event_id, category='auth', properties=properties)


def batches(events: list[dict[str, Any]], size: int = 100) -> list[dict[str, Any]]:
    """Bodies for the batch route (at most 100 events each), in sending order."""
    return [{'events': events[index : index + size]} for index in range(0, len(events), size)]


# --- the generated world ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Telemetry:
    events: list[dict[str, Any]]
    start: datetime
    end: datetime
    user_ids: list[str]
    template_ids: list[str]
    roles: dict[str, str]


@dataclass
class _Version:
    id: str
    published_at: datetime
    apps: dict[str, tuple[str, str]]
    definitions: list[dict[str, Any]]


@dataclass
class _Template:
    id: str
    versions: list[_Version]

    def version_at(self, moment: datetime, follows_updates: bool) -> _Version:
        published = [version for version in self.versions if version.published_at <= moment]
        return published[-1] if follows_updates else published[0]


@dataclass
class _User:
    index: int
    id: str
    role: str
    identity_changes: list[datetime]
    identities: list[tuple[str, str]]
    workspaces: list['_Workspace'] = field(default_factory=list)

    def at(self, moment: datetime) -> dict[str, str]:
        """The username and avatar in effect at `moment`, so events at one instant always agree (§1 directory)."""
        username, avatar_url = self.identities[bisect.bisect_right(self.identity_changes, moment)]
        return user_body(self.id, username, avatar_url)


@dataclass
class _Workspace:
    id: str
    name: str
    owner: _User
    template: _Template
    follows_updates: bool
    values: dict[str, str] = field(default_factory=dict)
    starts: list[datetime] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    versions: list[_Version] = field(default_factory=list)

    def running_at(self, moment: datetime) -> tuple[str, _Version] | None:
        index = bisect.bisect_right(self.starts, moment) - 1
        return None if index < 0 else (self.agents[index], self.versions[index])


class _World:
    def __init__(self, seed: int, start: datetime, days: int, users: int, templates: int) -> None:
        self.rng = random.Random(seed)
        self.start = start.astimezone(UTC)
        self.days = days
        self.end = self.start + days * DAY
        self.outbox: list[tuple[datetime, int, dict[str, Any]]] = []
        self.templates = [self._template(index) for index in range(templates)]
        self.users = [self._user(index) for index in range(users)]

    # ids and sending ------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def send(self, event: dict[str, Any], sent_at: datetime) -> None:
        self.outbox.append((sent_at, len(self.outbox), event))

    def moment(self, day: int, earliest: timedelta, latest: timedelta) -> datetime:
        """A millisecond-precise moment of day `day` between two times of day."""
        span = int((latest - earliest) / timedelta(milliseconds=1))
        return self.start + day * DAY + earliest + timedelta(milliseconds=self.rng.randrange(span))

    # templates and users --------------------------------------------------------------------------------------

    def _template(self, index: int) -> _Template:
        chosen = ['code-server', *self.rng.sample(['jupyter', 'filebrowser', 'pgadmin'], self.rng.randint(1, 2))]
        versions = []
        for number, catalogue in ((1, APPS_V1), (2, APPS_V2)):
            apps = {slug: catalogue[slug] for slug in chosen}
            if index % 3 == 2:  # the same slug under another display name: a separate app group (§3)
                apps['code-server'] = ('Code Server', '/icon/code.svg')
            published_at = self.start - DAY if number == 1 else self.start + (self.days // 2) * DAY
            versions.append(_Version(self.new_id(), published_at, apps, self._definitions(index, number)))
        return _Template(self.new_id(), versions)

    @staticmethod
    def _definitions(template_index: int, version: int) -> list[dict[str, Any]]:
        region = REGION_OPTIONS_A if template_index % 2 == 0 else REGION_OPTIONS_B
        cpu_description = 'CPU cores' if version == 1 else 'Number of CPU cores'
        definitions = [
            parameter_definition('region', 'Region', 'string', 'Where the workspace runs', region),
            parameter_definition('cpu', 'CPU', 'number', cpu_description, CPU_OPTIONS),
            parameter_definition('dotfiles_uri', 'Dotfiles', 'string', 'A dotfiles repository to install'),
        ]
        if template_index % 2 == 1:
            definitions.append(parameter_definition('image', 'Image', 'string', 'Base image', IMAGE_OPTIONS))
        return definitions

    def _user(self, index: int) -> _User:
        role = ROLES[index % len(ROLES)]
        if role == 'returning' and self.days < 100:
            role = 'developer'
        name = NAMES[index % len(NAMES)]
        username = f'{name}{index}'
        avatar = '' if index % 5 == 4 else f'https://avatars.example.com/{username}/0.png'
        changes = sorted(self.moment(0, timedelta(0), self.days * DAY) for _ in range(self.rng.randint(1, 2)))
        identities = [(username, avatar)]
        for version, _ in enumerate(changes, start=1):
            if index % 4 == 1 and version == 1:
                username = f'{name}{index}-renamed'
            identities.append((username, f'https://avatars.example.com/{username}/{version}.png'))
        user = _User(index, self.new_id(), role, changes, identities)
        if role in WORKSPACE_ROLES and self.templates:
            count = 3 if index == 0 else self.rng.randint(1, 3)
            chosen = self.rng.sample(self.templates, min(count, len(self.templates)))
            user.workspaces = [self._workspace(user, template, number) for number, template in enumerate(chosen)]
        return user

    def _workspace(self, owner: _User, template: _Template, number: int) -> _Workspace:
        name = f'{owner.identities[0][0]}-ws{number}'
        return _Workspace(self.new_id(), name, owner, template, follows_updates=self.rng.random() < 0.7)

    # lifecycle ------------------------------------------------------------------------------------------------

    def suspension_days(self) -> tuple[int, int]:
        first = self.days // 3
        return first, first + 2

    def deletion_day(self) -> int:
        return (2 * self.days) // 3

    def available(self, user: _User, day: int) -> bool:
        """Whether the user may act on that day (suspended, deleted and silent users do not)."""
        if user.role == 'suspended' and self.days >= 6:
            first, last = self.suspension_days()
            return not first <= day <= last
        if user.role == 'deleted' and self.days >= 3:
            return day < self.deletion_day()
        if user.role == 'returning':
            return day < 3 or day >= self.days - 3
        return True

    def emit_lifecycle(self, user: _User) -> None:
        if user.role != 'uncreated':  # §1: a user seen without user.created is created at its first event
            created_at = self.start + timedelta(minutes=user.index + 1)
            self.send(
                user_event('user.created', created_at, user.at(created_at), event_id=self.new_id(), status='active'),
                created_at,
            )
        if user.role == 'suspended' and self.days >= 6:
            first, last = self.suspension_days()
            for day, status, previous in ((first, 'suspended', 'active'), (last, 'active', 'suspended')):
                at = self.start + day * DAY + timedelta(hours=9)
                body = user_event(
                    'user.status_changed',
                    at,
                    user.at(at),
                    event_id=self.new_id(),
                    status=status,
                    previous_status=previous,
                )
                self.send(body, at)
        if user.role == 'deleted' and self.days >= 3:
            at = self.start + self.deletion_day() * DAY + timedelta(hours=12)
            self.send(user_event('user.deleted', at, user.at(at), event_id=self.new_id()), at)

    # builds ---------------------------------------------------------------------------------------------------

    def emit_builds(self, workspace: _Workspace) -> None:
        at = self.start + timedelta(minutes=self.rng.randint(10, 300))
        number = 0
        while at < self.end:
            if self.available(workspace.owner, int((at - self.start) / DAY)):
                if number and self.rng.random() < 0.3:
                    number += 1
                    self._build(workspace, at - timedelta(minutes=10), number, 'stop')
                number += 1
                self._build(workspace, at, number, 'start')
            day = int((at - self.start) / DAY) + self.rng.randint(2, 6)
            at = self.moment(day, timedelta(hours=1), timedelta(hours=5))

    def _build(self, workspace: _Workspace, at: datetime, number: int, transition: str) -> None:
        version = workspace.template.version_at(at, workspace.follows_updates)
        agent_id = self.new_id()
        apps = []
        if transition == 'start':  # a stopped workspace has no agent, so no apps
            workspace.starts.append(at)
            workspace.agents.append(agent_id)
            workspace.versions.append(version)
            apps = [
                {'agent_id': agent_id, 'slug': slug, 'display_name': display_name, 'icon': icon}
                for slug, (display_name, icon) in version.apps.items()
            ]
        body = build_event(
            at,
            workspace.owner.at(at),
            workspace.template.id,
            event_id=self.new_id(),
            workspace_id=workspace.id,
            workspace_name=workspace.name,
            build_number=number,
            transition=transition,
            template_version_id=version.id,
            apps=apps,
            parameters=self._parameter_values(workspace, version, at),
            template_parameters=version.definitions,
        )
        self.send(body, at)

    def _parameter_values(self, workspace: _Workspace, version: _Version, at: datetime) -> list[dict[str, str]]:
        """Resolved values, sticky per workspace but sometimes changed, so the latest build in a window matters."""
        values = []
        for definition in version.definitions:
            name = definition['name']
            if name not in workspace.values or self.rng.random() < 0.25:
                if definition['options']:
                    workspace.values[name] = self.rng.choice(definition['options'])['value']
                else:
                    owner = workspace.owner.at(at)['username']
                    workspace.values[name] = self.rng.choice(['', f'https://github.com/{owner}/dotfiles'])
            values.append({'name': name, 'value': workspace.values[name]})
        return values

    # daily activity -------------------------------------------------------------------------------------------

    def emit_day(self, user: _User, day: int) -> None:
        if not self.available(user, day) or (user.role != 'returning' and self.rng.random() < 0.25):
            return
        for _ in range(self.rng.randint(0 if user.workspaces else 1, 4)):
            self._page_view(user, self.moment(day, timedelta(hours=6), timedelta(hours=21)))
        if not user.workspaces:
            return
        for _ in range(self.rng.randint(1, 3)):
            begin = self.moment(day, timedelta(hours=6), timedelta(hours=20))
            finish = begin + timedelta(minutes=self.rng.randint(10, 180), seconds=self.rng.randint(0, 59))
            workspace = self.rng.choice(user.workspaces)
            self._workspace_session(workspace, begin, finish)
            others = [other for other in user.workspaces if other is not workspace]
            if others and self.rng.random() < 0.4:  # two templates at once: the cap at 30 (§4)
                overlap_begin = begin + (finish - begin) * self.rng.random() / 2
                overlap_finish = overlap_begin + timedelta(minutes=self.rng.randint(30, 120))
                self._workspace_session(self.rng.choice(others), overlap_begin, overlap_finish)

    def _page_view(self, user: _User, at: datetime) -> None:
        draw = self.rng.random()
        if draw < 0.4 and user.workspaces:
            template_id: str | None = self.rng.choice(user.workspaces).template.id
        elif draw < 0.5:
            template_id = NON_UUID_TEMPLATE  # §1: counts as activity without a template
        else:
            template_id = None
        draw = self.rng.random()
        offset = timedelta(hours=2) if draw < 0.05 else timedelta(hours=-5) if draw < 0.08 else None
        body = page_view_event(
            at,
            user.at(at),
            event_id=self.new_id(),
            template_id=template_id,
            path=self.rng.choice(PAGE_PATHS),
            offset=offset,
        )
        self.send(body, self._sent_at(user, at))

    def _sent_at(self, user: _User, at: datetime) -> datetime:
        """Most events are sent as they happen; a few arrive hours or days late (§2.5: back-dated events count)."""
        if user.role in ('developer', 'web') and self.rng.random() < 0.02:
            return at + timedelta(minutes=self.rng.randint(60, 3 * 24 * 60))
        return at

    def _workspace_session(self, workspace: _Workspace, begin: datetime, finish: datetime) -> None:
        running = workspace.running_at(begin)
        if running is None:
            return
        agent_id, version = running
        tools = [tool for tool in TOOLS if self.rng.random() < 0.35]
        self._agent_reports(workspace, agent_id, tools, begin, finish)
        for _ in range(self.rng.randint(0 if tools else 1, 3)):
            self._app_session(workspace, agent_id, version, begin, finish)

    def _agent_reports(
        self, workspace: _Workspace, agent_id: str, tools: list[str], begin: datetime, finish: datetime
    ) -> None:
        """Reports every 30 s from a minute before to a minute after the session, with a gap sometimes."""
        rng = self.rng
        sftp = 1 if 'ssh' in tools and rng.random() < 0.4 else None
        if sftp is None and rng.random() < 0.05:
            sftp = 1  # an sftp-only session: sftp minutes come only from session_count_sftp (§2.1)
        sends_sftp_key = sftp is not None or rng.random() < 0.5
        # Coder's agents sometimes report no connection during a session; the half-hour gate drops those (§2.1).
        connections = 0 if rng.random() < 0.07 else rng.randint(1, 3)
        gap_from = begin + (finish - begin) * rng.random() if rng.random() < 0.3 else finish
        gap_to = gap_from + timedelta(minutes=rng.randint(3, 15))
        owner = workspace.owner
        at = begin - timedelta(minutes=1)
        while at < finish + timedelta(minutes=1):
            if not gap_from <= at < gap_to:
                in_session = begin <= at < finish
                counts = dict.fromkeys(tools, 1) if in_session else {}
                reported_at = at + timedelta(milliseconds=rng.randrange(1000))
                latency = 0.0 if not in_session or rng.random() < 0.15 else round(rng.uniform(5, 150), 2)
                body = agent_stats_event(
                    reported_at,
                    owner.at(reported_at),
                    workspace.template.id,
                    workspace.id,
                    agent_id,
                    event_id=self.new_id(),
                    # an app-only session still has the browser's connection through the agent
                    connection_count=(connections if tools else 1) if in_session else 0,
                    latency_ms=latency,
                    sftp=((sftp or 0) if in_session else 0) if sends_sftp_key else None,
                    **counts,
                )
                self.send(body, self._sent_at(owner, reported_at))
            at += REPORT_EVERY

    def _app_session(
        self, workspace: _Workspace, agent_id: str, version: _Version, begin: datetime, finish: datetime
    ) -> None:
        rng = self.rng
        draw = rng.random()
        access_method = rng.choice(['path', 'subdomain'])
        if draw < 0.45:
            slug = rng.choice(sorted(version.apps))
        elif draw < 0.65:
            slug, access_method = '', 'terminal'
        elif draw < 0.8:
            slug = rng.choice(PORTS)
        else:
            slug = UNKNOWN_SLUG  # in no catalogue: usage, never an app (§2.2)
        span_ms = int((finish - begin) / timedelta(milliseconds=1))
        started_at = begin + timedelta(milliseconds=rng.randrange(max(1, span_ms * 4 // 5)))
        remaining_ms = int((finish - started_at) / timedelta(milliseconds=1))
        ended_at = started_at + timedelta(milliseconds=rng.randint(20_000, max(20_000, remaining_ms)))
        self._app_session_sends(workspace, agent_id, slug, access_method, started_at, ended_at)

    def _app_session_sends(
        self,
        workspace: _Workspace,
        agent_id: str,
        slug: str,
        access_method: str,
        started_at: datetime,
        ended_at: datetime,
    ) -> None:
        """Sends that grow in both end and requests, then sometimes a smaller one (ignored, §2.2) and a re-send of
        the last one under its own event_id (counted once)."""
        rng = self.rng
        session_id = self.new_id()
        sends = rng.randint(1, 3)
        requests_per_send = rng.randint(1, 20)
        duration = ended_at - started_at
        body: dict[str, Any] = {}
        for number in range(1, sends + 1):
            end = started_at + duration * number / sends
            end -= timedelta(microseconds=end.microsecond % 1000)
            body = self._app_send(
                workspace, agent_id, session_id, slug, access_method, started_at, end, requests_per_send * number
            )
            self.send(body, end)
        if rng.random() < 0.2:
            smaller_end = started_at + duration / 2
            smaller_end -= timedelta(microseconds=smaller_end.microsecond % 1000)
            smaller = self._app_send(
                workspace,
                agent_id,
                session_id,
                slug,
                access_method,
                started_at,
                smaller_end,
                requests_per_send * sends // 2,
            )
            self.send(smaller, ended_at + timedelta(minutes=1))
        if rng.random() < 0.1:
            self.send(body, ended_at + timedelta(minutes=2))

    def _app_send(
        self,
        workspace: _Workspace,
        agent_id: str,
        session_id: str,
        slug: str,
        access_method: str,
        started_at: datetime,
        ended_at: datetime,
        requests: int,
    ) -> dict[str, Any]:
        return app_session_event(
            started_at,
            ended_at,
            workspace.owner.at(started_at),
            workspace.template.id,
            workspace.id,
            agent_id,
            session_id,
            event_id=self.new_id(),
            slug_or_port=slug,
            access_method=access_method,
            requests=requests,
        )

    def events(self) -> list[dict[str, Any]]:
        for user in self.users:
            self.emit_lifecycle(user)
            for workspace in user.workspaces:
                self.emit_builds(workspace)
        for day in range(self.days):
            for user in self.users:
                self.emit_day(user, day)
        self.outbox.sort(key=lambda item: (item[0], item[1]))
        return [event for _, _, event in self.outbox]


def generate(
    seed: int = 1,
    start: datetime = datetime(2024, 3, 1, tzinfo=UTC),
    days: int = 14,
    users: int = 8,
    templates: int = 3,
) -> Telemetry:
    """Coder-shaped telemetry over `days` days from `start` (events in [start, start + days)), in sending order."""
    world = _World(seed, start, days, users, templates)
    events = world.events()
    return Telemetry(
        events=events,
        start=world.start,
        end=world.end,
        user_ids=[user.id for user in world.users],
        template_ids=[template.id for template in world.templates],
        roles={user.id: user.role for user in world.users},
    )
