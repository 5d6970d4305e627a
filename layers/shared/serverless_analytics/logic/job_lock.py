"""One run at a time of a scheduled job: a lock item in the rollup state table, released when the run ends."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from serverless_analytics.adapters import dynamodb


@contextmanager
def job_lock(table: str, job: str, now: datetime, lock_seconds: int) -> Iterator[bool]:
    """Yields whether this run holds `job`'s lock (False: another run does). A run that died lets the next one in
    after `lock_seconds`, the function's timeout."""
    owner = uuid.uuid4().hex
    at = int(now.timestamp())
    if not dynamodb.acquire_lock(table, job, owner, at, at + lock_seconds):
        yield False
        return
    try:
        yield True
    finally:
        dynamodb.release_lock(table, job, owner)
