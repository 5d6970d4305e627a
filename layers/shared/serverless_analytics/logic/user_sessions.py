"""The user-session index (issue 15): per (project, UTC day), each (session, user) pair of the day's events with its
first event time, so that the derived cubes (Sessions, ReturningUsers) answer over a user's whole history while a
query reads only its date range's event partitions.

- The Cube model reads it as the table `user_sessions` (session_id, user_id, first_at), which is by definition the
  view `cube.datamodel.USER_SESSIONS_VIEW` over all events; the compiler reads these files instead, plus the view
  over the range's own events, so a day the rollup has not indexed yet still counts (cube.compiler).
- A day's pairs are one object, `usage/project_id=<p>/user_sessions/<day>.parquet`, written whole by the usage
  rollup each time it recomputes the day (idempotent, as the buckets). The files of a project are in one folder of
  their own, so Athena reads a project's whole history without enumerating a projected partition per day.
- A pair is kept per day, not merged across days: a session that crosses midnight has a pair in each day, and the
  readers take the minimum. Rows with neither a session nor a user say nothing about either and are left out.
"""

from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from serverless_analytics.lake.schema import TIMESTAMP

FOLDER = 'user_sessions'
SCHEMA = pa.schema(
    [
        pa.field('session_id', pa.string()),
        pa.field('user_id', pa.string()),
        pa.field('first_at', TIMESTAMP),
    ]
)


def user_sessions_key(prefix: str, project_id: str, day: date) -> str:
    return f'{prefix}/project_id={project_id}/{FOLDER}/{day.isoformat()}.parquet'


def user_session_pairs(events: pa.Table, start: datetime, end: datetime) -> pa.Table:
    """The (session, user) pairs of the events in [start, end), each with its first event time."""
    in_day = pc.and_(pc.greater_equal(events['timestamp'], start), pc.less(events['timestamp'], end))
    known = pc.or_(pc.is_valid(events['session_id']), pc.is_valid(events['user_id']))
    rows = events.filter(pc.and_(in_day, known)).select(['session_id', 'user_id', 'timestamp'])
    pairs = rows.group_by(['session_id', 'user_id'], use_threads=False).aggregate([('timestamp', 'min')])
    pairs = pairs.rename_columns({'timestamp_min': 'first_at'}).select(SCHEMA.names).cast(SCHEMA)
    return pairs.sort_by([('session_id', 'ascending'), ('user_id', 'ascending')])
