import json
from collections import Counter
from datetime import UTC, datetime

from functions.get_stats.app import lambda_handler as stats_handler
from functions.track_batch.app import lambda_handler as batch_handler
from functions.write_events.app import lambda_handler as writer_handler
from tests.conftest import load_event
from tests.integration.conftest import invoke, kinesis_trigger, stream_records, with_body


def test_stats_follow_the_pipeline_from_accepted_to_flushed(aws, lambda_context, pinned_now):
    # Given: events of today and of an earlier day, accepted but not yet written (the clock pinned, so "today" and
    # "this hour" cannot turn over between the events and the stats)
    now = pinned_now(datetime(2026, 11, 22, 12, 59, 59, 999000, tzinfo=UTC))
    events = [
        {'event_name': 'a', 'category': 'auth', 'timestamp': now.isoformat()},
        {'event_name': 'b', 'category': 'auth'},
        {'event_name': 'c', 'category': 'error', 'timestamp': '2025-01-01T10:00:00Z'},
    ]
    assert invoke(batch_handler, with_body('track_batch', {'events': events}), lambda_context)[0] == 200

    status, pending = invoke(stats_handler, load_event('get_stats'), lambda_context)
    assert status == 200
    assert pending['total_events'] == 0
    assert pending['buffer_status']['events_pending'] == pending['buffer_status']['buffer_size'] == 3
    assert pending['buffer_status']['last_flush'] is None

    # When: the stream writer drains the stream
    assert writer_handler(kinesis_trigger(stream_records(aws)), lambda_context) == {'batchItemFailures': []}

    # Then
    status, stats = invoke(stats_handler, load_event('get_stats'), lambda_context)
    assert stats['total_events'] == 3
    assert stats['events_by_category'] == dict(Counter(e['category'] for e in events))
    assert stats['events_today'] == 2
    assert stats['events_this_hour'] == 2
    buffer = stats['buffer_status']
    assert (buffer['events_pending'], buffer['buffer_size'], buffer['events_flushed_total']) == (0, 0, 3)
    assert (buffer['max_buffer_size'], buffer['flush_interval_seconds']) == (2000, 5)
    assert datetime.fromisoformat(buffer['last_flush'].replace('Z', '+00:00')) >= now.replace(microsecond=0)


def test_stats_are_per_project(aws, lambda_context):
    writer_handler(load_event('write_events'), lambda_context)  # project 1
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import create_key
    from serverless_analytics.models.api_key import Scope

    key, _ = create_key(get_settings(), '2', [Scope.READ], 'other project')
    event = load_event('get_stats')
    event['headers']['authorization'] = f'Bearer {key}'

    status, stats = invoke(stats_handler, event, lambda_context)
    assert status == 200
    assert (stats['total_events'], stats['events_by_category']) == (0, {})
    assert json.loads(stats_handler(load_event('get_stats'), lambda_context)['body'])['total_events'] == 3


def test_stats_are_a_read_an_ingest_only_key_is_refused(aws, lambda_context):
    from serverless_analytics.config import get_settings
    from serverless_analytics.logic.api_keys import create_key
    from serverless_analytics.models.api_key import Scope

    answers = {}
    for scope in (Scope.READ, Scope.INGEST):
        key, _ = create_key(get_settings(), '1', [scope], scope)
        event = load_event('get_stats')
        event['headers']['authorization'] = f'Bearer {key}'
        answers[scope] = invoke(stats_handler, event, lambda_context)

    assert answers[Scope.READ][0] == 200
    assert answers[Scope.INGEST] == (403, {'detail': "API key lacks the 'read' scope"})
