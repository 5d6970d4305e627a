"""Accept events: validate (done by the models), enrich, serialise and put them on the stream."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import TypeAdapter

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb, kinesis
from serverless_analytics.config import Settings
from serverless_analytics.logic import counters
from serverless_analytics.logic.enrich import RequestContext, enrich
from serverless_analytics.models.api import TrackBatchResponse, TrackEventResponse
from serverless_analytics.models.errors import ServiceUnavailableError
from serverless_analytics.models.event import CanonicalEvent, TrackBatchRequest, TrackEventRequest
from serverless_analytics.observability import logger


@dataclass(frozen=True)
class IngestOutcome:
    events: list[CanonicalEvent]
    failed: list[int]  # indices of events that could not be queued

    @property
    def queued(self) -> int:
        return len(self.events) - len(self.failed)


MAX_PARTITION_KEY_LENGTH = 256  # Kinesis refuses a whole PutRecords call holding a longer key


def partition_key(event: CanonicalEvent) -> str:
    """Keeps one session's events on one shard, in order, without hot-spotting a project.

    A session or user id too long for a key is replaced by its digest: the same id still maps to one shard."""
    grouping = event['session_id'] or event['user_id'] or event['event_id']
    key = f'{event["project_id"]}:{grouping}'
    if len(key) <= MAX_PARTITION_KEY_LENGTH:
        return key
    return f'{event["project_id"]}:{hashlib.sha256(grouping.encode()).hexdigest()}'


# Serialising with the TypedDict's schema is ~1.5x faster than schema-less `to_json`, and only a schema makes
# pydantic honour exclude_none.
_CANONICAL_EVENT = TypeAdapter(CanonicalEvent)


def to_stream_record(event: CanonicalEvent) -> kinesis.StreamRecord:
    # Null fields are left out: the records get ~15% smaller and the writer reads a missing key as null.
    return kinesis.StreamRecord(
        data=_CANONICAL_EVENT.dump_json(event, exclude_none=True), partition_key=partition_key(event)
    )


def prepare(requests: Sequence[TrackEventRequest], context: RequestContext, settings: Settings) -> list[CanonicalEvent]:
    return [enrich(request, context, settings) for request in requests]


def ingest(requests: Sequence[TrackEventRequest], context: RequestContext, settings: Settings) -> IngestOutcome:
    """Queue events on the stream; what still fails after retries is reported, never dropped silently."""
    events = prepare(requests, context, settings)
    records = [to_stream_record(event) for event in events]
    failed = kinesis.put_records(
        settings.EVENTS_STREAM_NAME, records, settings.KINESIS_PUT_ATTEMPTS, settings.KINESIS_BACKOFF_BASE_SECONDS
    )
    outcome = IngestOutcome(events=events, failed=failed)
    _count_accepted(context.project_id, outcome.queued, settings)
    return outcome


def _count_accepted(project_id: str, queued: int, settings: Settings) -> None:
    if not queued:
        return
    delta = dynamodb.CounterDelta(counters.PIPELINE, add={'accepted': queued})
    try:
        dynamodb.add_to_counters(settings.COUNTERS_TABLE, project_id, [delta])
    except ServiceUnavailableError:
        # The events are on the stream already: failing the request now would make the client send them
        # again. Only the stats' pending figure is off, so log it instead.
        logger.exception('Could not count accepted events', extra={'project_id': project_id, 'queued': queued})


def track_event(request: TrackEventRequest, context: RequestContext, settings: Settings) -> TrackEventResponse:
    outcome = ingest([request], context, settings)
    if outcome.failed:
        raise ServiceUnavailableError('The event could not be queued')
    event = outcome.events[0]
    message = 'Event tracked successfully'
    if event['timestamp_clamped']:
        message += '; its timestamp was in the future and was set to the receive time'
    return TrackEventResponse(success=True, event_id=event['event_id'], message=message, timestamp=clock.now())


def track_batch(request: TrackBatchRequest, context: RequestContext, settings: Settings) -> TrackBatchResponse:
    outcome = ingest(request.events, context, settings)
    failed = len(outcome.failed)
    message = f'{outcome.queued} events queued'
    if failed:
        message += f', {failed} failed after retries and were not queued; resend them'
    return TrackBatchResponse(
        success=not failed,
        events_received=len(request.events),
        events_queued=outcome.queued,
        events_failed=failed,
        message=message,
        timestamp=clock.now(),
    )
