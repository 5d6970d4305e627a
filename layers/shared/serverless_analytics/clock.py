"""The current time, read in one place: every module asks `clock.now()`, so a test can pin it (monkeypatch
`serverless_analytics.clock.now`) instead of depending on the hour, the day or the week it runs in."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
