"""The product's usage buckets against the independent reference (tests/insights_reference), over generated
Coder-shaped telemetry turned into lake rows by the real ingestion path (request model, enrichment, stream record,
the writer's decoder)."""

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from local.coder_telemetry import generate
from local.environment import stack_settings
from serverless_analytics.lake.records import decode
from serverless_analytics.logic.enrich import RequestContext, enrich
from serverless_analytics.logic.ingest import to_stream_record
from serverless_analytics.logic.usage_buckets import BUILTINS, usage_buckets
from serverless_analytics.models.event import TrackEventRequest
from tests.insights_reference import reference


def lake_rows(events: list[dict], received_from: datetime) -> pa.Table:
    """The rows the stream writer would store, each event received one millisecond after the one before."""
    settings = stack_settings()
    payloads = [
        to_stream_record(
            enrich(
                TrackEventRequest.model_validate(event),
                RequestContext(project_id='1', received_at=received_from + timedelta(milliseconds=i)),
                settings,
            )
        ).data
        for i, event in enumerate(events)
    ]
    decoded = decode(payloads)
    assert decoded.bad == {}
    return decoded.rows


def product_buckets(events: list[dict], start: datetime, end: datetime) -> dict:
    rows = usage_buckets(lake_rows(events, end), start, end).to_pylist()
    return {(row['bucket_start'], row['template_id'], row['user_id']): row for row in rows}


def _as_product_row(bucket: reference.Bucket) -> dict:
    return {
        'usage_minutes': bucket.usage_minutes,
        **{f'{name}_minutes': bucket.builtin_minutes.get(name, 0) for name in BUILTINS},
        'app_minutes': {
            key: len(minutes) if isinstance(minutes, set) else minutes for key, minutes in bucket.app_minutes.items()
        },
        'median_latency_ms': bucket.median_latency_ms,
    }


def _comparable(row: dict) -> dict:
    import json

    return {
        'usage_minutes': row['usage_minutes'],
        **{f'{name}_minutes': row[f'{name}_minutes'] for name in BUILTINS},
        'app_minutes': json.loads(row['app_minutes']),
        'median_latency_ms': row['median_latency_ms'],
    }


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_every_bucket_equals_the_references(seed):
    telemetry = generate(seed=seed, start=datetime(2026, 11, 1, tzinfo=UTC), days=3, users=6, templates=3)

    ours = product_buckets(telemetry.events, telemetry.start, telemetry.end)
    theirs = {
        (start.astimezone(UTC), template, user): bucket
        for (start, template, user), bucket in reference.usage_buckets(telemetry.events).items()
        if telemetry.start <= start < telemetry.end
    }

    assert set(ours) == set(theirs)
    assert {key: _comparable(row) for key, row in ours.items()} == {
        key: _as_product_row(bucket) for key, bucket in theirs.items()
    }
