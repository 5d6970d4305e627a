"""The user directory's own consumer of the events stream: each batch's events brought into the directory and the
status history (`logic.user_directory`).

Not the stream writer's job any more (issue 17): the directory reads each user's entry once per batch, which was
half of the writer's time, and a user seen in one batch is usually seen in the next. With an event source mapping
of its own, gathering a longer window (the template's `UserDirectoryBatchingWindowSeconds`), it reads a user once
per window instead of once per writer batch, and the writer's way to the lake no longer waits on it. Both
consumers decode the records with the same `lake.decode`, so a record the writer quarantines never reaches the
directory either.

Redeliveries change nothing: merging an event the directory has already merged leaves its entry as it is. The
writer skips an event id it has already stored; here, of a batch's records with one event id only the first is
merged, as the writer keeps the first in the lake. A client's retry delivered in a later window is merged as well:
it is the same event again unless the ingest API gave the copy a time of its own (an event sent without
`timestamp`, or with a `sent_at`), when it can move the user's `last_seen` to the copy's hour.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

import pyarrow as pa

from serverless_analytics.config import Settings
from serverless_analytics.lake import records as lake
from serverless_analytics.logic import user_directory
from serverless_analytics.models.errors import ServiceUnavailableError
from serverless_analytics.models.stream import DeliveredRecord
from serverless_analytics.observability import logger


def update_user_directory(batch: Sequence[DeliveredRecord], settings: Settings) -> list[str]:
    """Merge a Kinesis batch's events into the directory; returns the sequence numbers to report as failed (the
    records of each project whose directory writes failed: redelivered, and merged again harmlessly)."""
    decoded = lake.decode([record.data for record in batch])
    failed: list[str] = []
    for project_id, members in first_copies(decoded.rows).items():
        try:
            user_directory.record_users(settings, project_id, decoded.rows, members)  # it reads the columns it needs
        except ServiceUnavailableError:
            logger.exception(
                'Updating the user directory failed; it will be redelivered', extra={'project_id': project_id}
            )
            failed += [batch[decoded.good[row]].sequence for row in members]
    return failed


def first_copies(rows: pa.Table) -> dict[str, list[int]]:
    """The rows to merge, by project: each event id's first row of the batch."""
    projects, event_ids = lake.per_row(rows['project_id']), lake.strings(rows['event_id'])
    kept: Iterable[int] = range(len(event_ids))
    if len(set(event_ids)) < len(event_ids):  # a copy in the batch (not the common case: one pass more)
        first: dict[tuple[str | None, str | None], int] = {}
        for row, key in enumerate(zip(projects, event_ids, strict=True)):
            first.setdefault(key, row)
        kept = sorted(first.values())
    by_project: dict[str, list[int]] = defaultdict(list)
    for row in kept:
        project_id = projects[row]
        if project_id is not None:  # never None: a record that decodes has its project (lake.schema)
            by_project[project_id].append(row)
    return by_project
