"""Thirty-minute usage buckets from events: what Coder's `template_usage_stats` holds (insights mapping §2).

Per (bucket, template, user): the active minutes, the minutes of each builtin (vscode, jetbrains,
reconnecting_pty, ssh, sftp) and of each app key, and the median connection latency as a 32-bit float. The
rules, in order:

- a copy of an event id counts once (the first received);
- an agent report with any session count > 0 makes its minute active, and active for each builtin whose count is
  > 0; the agent's minutes of a bucket count only if the largest `connection_count` of those reports is > 0;
- an app session (keyed by user, agent and session id) is its first send, replaced by a later send only where the
  later end and request count are both at least the stored ones (Coder's upsert); its minutes are
  trunc(start) .. trunc(end - 1 µs), under the key `[terminal]` for the web terminal, else its slug or port;
- any other event with a user (not `workspace.*`, not `user.*`) makes its minute active;
- usage = the distinct minutes of the union; latency = percentile_cont(0.5) of the reports' latencies > 0 whose
  minute is active.

The SQL runs on DuckDB in-process, over the lake rows of the days concerned (an app session started the day before
reaches into this one). Template ids that are not UUIDs count as no template, as Coder's clients parse them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

BUILTINS = ('vscode', 'jetbrains', 'reconnecting_pty', 'ssh', 'sftp')
AGENT_REPORT = 'workspace.agent_stats'
APP_SESSION = 'workspace.app_session'
TERMINAL_KEY = '[terminal]'

BUCKET_SCHEMA = pa.schema(
    [
        pa.field('bucket_start', pa.timestamp('ms', tz='UTC'), nullable=False),
        pa.field('template_id', pa.string()),  # null: activity without a template
        pa.field('user_id', pa.string(), nullable=False),
        pa.field('usage_minutes', pa.int32(), nullable=False),
        *(pa.field(f'{name}_minutes', pa.int32(), nullable=False) for name in BUILTINS),
        pa.field('app_minutes', pa.string(), nullable=False),  # JSON object: app key -> minutes
        pa.field('median_latency_ms', pa.float32()),
    ]
)


@dataclass(frozen=True)
class AppSession:
    """One app session as Coder's upsert leaves it after every send."""

    user_id: str
    template_id: str | None
    key: str
    started_at: datetime
    ended_at: datetime
    requests: int


def usage_buckets(events: pa.Table, start: datetime, end: datetime) -> pa.Table:
    """The buckets whose start is in [start, end) (UTC, on 30-minute boundaries), from lake rows `events`."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register('lake_rows', events)
        connection.register('app_sessions', _app_sessions_table(_app_sessions(connection)))
        bounds = {'start': _utc_wall(start), 'end': _utc_wall(end)}
        result = connection.sql(_BUCKETS_SQL, params=bounds).to_arrow_table()
    finally:
        connection.close()
    return result.cast(BUCKET_SCHEMA)


def _utc_wall(moment: datetime) -> datetime:
    """The UTC wall time of an aware `moment`, as DuckDB compares TIMESTAMP columns."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _app_sessions(connection: Any) -> list[AppSession]:
    """Every app session's sends folded in arrival order by Coder's upsert rule (needs the order, so not SQL)."""
    rows = connection.execute(_APP_SENDS_SQL).fetchall()
    sessions: dict[tuple[str, str, str], AppSession] = {}
    for user_id, agent_id, session_id, template_id, key, started_at, ended_at, requests in rows:
        identity = (user_id, agent_id, session_id)
        stored = sessions.get(identity)
        if stored is None:
            sessions[identity] = AppSession(user_id, template_id, key, started_at, ended_at, requests)
        elif ended_at >= stored.ended_at and requests >= stored.requests:
            sessions[identity] = AppSession(
                stored.user_id, stored.template_id, stored.key, stored.started_at, ended_at, requests
            )
    return list(sessions.values())


def _app_sessions_table(sessions: Iterable[AppSession]) -> pa.Table:
    sessions = list(sessions)
    return pa.table(
        {
            'user_id': pa.array([s.user_id for s in sessions], pa.string()),
            'template_id': pa.array([s.template_id for s in sessions], pa.string()),
            'app_key': pa.array([s.key for s in sessions], pa.string()),
            'started_at': pa.array([s.started_at for s in sessions], pa.timestamp('us')),
            'ended_at': pa.array([s.ended_at for s in sessions], pa.timestamp('us')),
        }
    )


# The lake rows once per event id, the first received; the template as Coder would parse it (a UUID, or none).
_EVENTS_CTE = """
events AS (
    SELECT name, user_id, session_id, CAST("timestamp" AS TIMESTAMP) AS occurred_at, received_at, properties,
           CAST(TRY_CAST(template_id AS UUID) AS VARCHAR) AS template_id
    FROM lake_rows
    WHERE user_id IS NOT NULL AND user_id <> ''
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1
)
"""

_APP_SENDS_SQL = f"""
WITH {_EVENTS_CTE}
SELECT user_id,
       coalesce(properties ->> '$.agent_id', '') AS agent_id,
       coalesce(session_id, '') AS session_id,  -- the envelope's: the app session's own id (mapping §1)
       template_id,
       CASE WHEN properties ->> '$.access_method' = 'terminal' THEN '{TERMINAL_KEY}'
            ELSE coalesce(properties ->> '$.slug_or_port', '') END AS app_key,
       CAST(TRY_CAST(properties ->> '$.session_started_at' AS TIMESTAMPTZ) AS TIMESTAMP) AS started_at,
       CAST(TRY_CAST(properties ->> '$.session_ended_at' AS TIMESTAMPTZ) AS TIMESTAMP) AS ended_at,
       coalesce(TRY_CAST(properties ->> '$.requests' AS BIGINT), 0) AS requests
FROM events
WHERE name = '{APP_SESSION}'
  AND TRY_CAST(properties ->> '$.session_started_at' AS TIMESTAMPTZ) IS NOT NULL
  AND TRY_CAST(properties ->> '$.session_ended_at' AS TIMESTAMPTZ) IS NOT NULL
ORDER BY received_at, occurred_at
"""


def _session_count(name: str) -> str:
    return f"coalesce(TRY_CAST(properties ->> '$.session_count_{name}' AS BIGINT), 0) AS {name}"


def _builtin_minutes(name: str) -> str:
    return f'count(DISTINCT minute) FILTER (WHERE is_{name}) AS {name}_minutes'


_BUCKETS_SQL = f"""
WITH {_EVENTS_CTE},
reports AS (
    SELECT user_id, template_id, date_trunc('minute', occurred_at) AS minute,
           coalesce(TRY_CAST(properties ->> '$.connection_count' AS BIGINT), 0) AS connections,
           TRY_CAST(properties ->> '$.connection_median_latency_ms' AS DOUBLE) AS latency,
           {', '.join(_session_count(name) for name in BUILTINS)}
    FROM events WHERE name = '{AGENT_REPORT}'
),
session_reports AS (
    SELECT *, time_bucket(INTERVAL 30 MINUTE, minute) AS bucket
    FROM reports WHERE {' OR '.join(f'{name} > 0' for name in BUILTINS)}
),
connected AS (
    SELECT bucket, template_id, user_id FROM session_reports GROUP BY ALL HAVING max(connections) > 0
),
agent_minutes AS (
    SELECT r.user_id, r.template_id, r.minute, {', '.join(f'bool_or(r.{name} > 0) AS is_{name}' for name in BUILTINS)}
    FROM session_reports r
    JOIN connected c ON c.bucket = r.bucket AND c.user_id = r.user_id AND c.template_id IS NOT DISTINCT FROM r.template_id
    GROUP BY ALL
),
app_minutes AS (
    SELECT user_id, template_id, app_key, unnest(generate_series(
        date_trunc('minute', started_at), date_trunc('minute', ended_at - INTERVAL 1 MICROSECOND), INTERVAL 1 MINUTE
    )) AS minute
    FROM app_sessions WHERE ended_at > started_at
),
other_minutes AS (
    SELECT user_id, template_id, date_trunc('minute', occurred_at) AS minute FROM events
    WHERE name NOT LIKE 'workspace.%' AND name NOT LIKE 'user.%'
),
active AS (
    SELECT user_id, template_id, minute FROM agent_minutes
    UNION SELECT user_id, template_id, minute FROM app_minutes
    UNION SELECT user_id, template_id, minute FROM other_minutes
),
usage AS (
    SELECT time_bucket(INTERVAL 30 MINUTE, minute) AS bucket_start, template_id, user_id,
           count(DISTINCT minute) AS usage_minutes
    FROM active GROUP BY ALL
),
builtins AS (
    SELECT time_bucket(INTERVAL 30 MINUTE, minute) AS bucket_start, template_id, user_id,
           {', '.join(_builtin_minutes(name) for name in BUILTINS)}
    FROM agent_minutes GROUP BY ALL
),
apps AS (
    SELECT bucket_start, template_id, user_id, json_group_object(app_key, minutes) AS app_minutes FROM (
        SELECT time_bucket(INTERVAL 30 MINUTE, minute) AS bucket_start, template_id, user_id, app_key,
               count(DISTINCT minute) AS minutes
        FROM app_minutes GROUP BY ALL ORDER BY app_key
    ) GROUP BY ALL
),
latencies AS (
    SELECT time_bucket(INTERVAL 30 MINUTE, r.minute) AS bucket_start, r.template_id, r.user_id,
           CAST(quantile_cont(r.latency, 0.5) AS FLOAT) AS median_latency_ms
    FROM reports r
    JOIN (SELECT DISTINCT user_id, template_id, minute FROM active) a
      ON a.user_id = r.user_id AND a.minute = r.minute AND a.template_id IS NOT DISTINCT FROM r.template_id
    WHERE r.latency > 0
    GROUP BY ALL
)
SELECT u.bucket_start, u.template_id, u.user_id, u.usage_minutes,
       {', '.join(f'coalesce(b.{name}_minutes, 0) AS {name}_minutes' for name in BUILTINS)},
       coalesce(CAST(a.app_minutes AS VARCHAR), '{{}}') AS app_minutes,
       l.median_latency_ms
FROM usage u
LEFT JOIN builtins b ON b.bucket_start = u.bucket_start AND b.user_id = u.user_id
                    AND b.template_id IS NOT DISTINCT FROM u.template_id
LEFT JOIN apps a ON a.bucket_start = u.bucket_start AND a.user_id = u.user_id
                AND a.template_id IS NOT DISTINCT FROM u.template_id
LEFT JOIN latencies l ON l.bucket_start = u.bucket_start AND l.user_id = u.user_id
                     AND l.template_id IS NOT DISTINCT FROM u.template_id
WHERE u.bucket_start >= $start AND u.bucket_start < $end
ORDER BY u.bucket_start, u.template_id NULLS FIRST, u.user_id
"""
