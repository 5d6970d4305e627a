"""Ingest compute: events per second per core through the batch handler's validate -> enrich -> serialize path.

The request goes through the real `track_batch` Lambda handler (Powertools routing and validation, the route,
enrichment, serialisation); only the Kinesis client is replaced by an in-memory sink, and the credential check
and counter update (one DynamoDB call each per request, not per event) are skipped. One process, one core.
Target: >= 20,000 events/s.
"""

import json
from unittest import mock

from bench.common import batches, best_rate
from functions.track_batch import app as handler
from serverless_analytics.adapters import dynamodb, kinesis
from serverless_analytics.config import get_settings
from serverless_analytics.http.common import remember_principal
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.observability import metrics

BATCHES = 40
BATCH_SIZE = 100


def _event(body: dict) -> dict:
    path = '/api/v1/analytics/batch'
    return {
        'version': '2.0',
        'routeKey': f'POST {path}',
        'rawPath': path,
        'rawQueryString': '',
        'headers': {'content-type': 'application/json', 'user-agent': 'bench'},
        'requestContext': {
            'http': {
                'method': 'POST',
                'path': path,
                'protocol': 'HTTP/1.1',
                'sourceIp': '203.0.113.9',
                'userAgent': 'b',
            },
            'stage': '$default',
        },
        'body': json.dumps(body),
        'isBase64Encoded': False,
    }


class Sink:
    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0

    def put_records(self, stream, records, attempts, backoff):
        self.records += len(records)
        self.bytes += sum(len(r.data) for r in records)
        return []


def main() -> None:
    events = [_event({'client_id': 'bench', 'events': batch}) for batch in batches(BATCHES, BATCH_SIZE)]
    principal = Principal(key_id='bench', project_id='1', scopes=frozenset(Scope))
    sink = Sink()
    get_settings()

    def work() -> int:
        for event in events:
            remember_principal(handler.app, principal)
            response = handler.app.resolve(event, None)
            assert response['statusCode'] == 200, response['body']
            metrics.clear_metrics()  # what the handler's log_metrics decorator does after each invocation
        return len(events) * BATCH_SIZE

    with mock.patch.object(kinesis, 'put_records', sink.put_records), mock.patch.object(dynamodb, 'add_to_counters'):
        work()  # warm caches (user-agent parsing, pydantic) as a warm Lambda would have them
        best, median = best_rate(work)
    print(
        f'ingest: {best:,.0f} events/s per core (median {median:,.0f}; {sink.bytes / sink.records:.0f} bytes/record); target >= 20,000'
    )


if __name__ == '__main__':
    main()
