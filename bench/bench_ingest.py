"""Ingest compute: events per second per core through the batch handler's validate -> enrich -> serialize path.

Each request goes through the real `track_batch` Lambda handler as the runtime calls it (Powertools logging and
metrics decorators, the body-size guard, routing, validation, enrichment, serialisation, PutRecords chunking
and the accepted-events counter update) with the sample API Gateway event's shape. The AWS clients are
in-memory stubs (bench/common.StubAws) and the credential check, one DynamoDB read per request rather than per
event, is skipped. One process, one core. Target: >= 20,000 events/s.
"""

import contextlib
import io
import json
import os
from unittest import mock

from bench.common import ROOT, aws_stubbed, batches, best_rate, lambda_context  # first: it puts the layer on the path
from local.environment import required_settings_environment

os.environ.update(required_settings_environment())  # the handler reads its settings at import

from functions.track_batch import app as handler  # noqa: E402
from serverless_analytics.config import get_settings  # noqa: E402
from serverless_analytics.http import ingestion_api as http_api  # noqa: E402
from serverless_analytics.models.api_key import Principal, Scope  # noqa: E402

BATCHES = 40
BATCH_SIZE = 100


def main() -> None:
    sample = json.loads((ROOT / 'events' / 'track_batch.json').read_text())  # the sample API Gateway event
    events = [
        {**sample, 'body': json.dumps({'client_id': 'bench', 'events': batch})}
        for batch in batches(BATCHES, BATCH_SIZE)
    ]
    principal = Principal(key_id='bench', project_id='1', scopes=frozenset(Scope))
    context = lambda_context('TrackBatchFunction')
    get_settings()

    def work() -> int:
        # The handler prints its metrics (EMF) to stdout after each request, as in Lambda; kept out of the output.
        with contextlib.redirect_stdout(io.StringIO()):
            for event in events:
                response = handler.lambda_handler(event, context)
                assert response['statusCode'] == 200, response['body']
        return len(events) * BATCH_SIZE

    with aws_stubbed() as stub, mock.patch.object(http_api, 'authenticate', lambda *_: principal):
        work()  # warm caches (user-agent parsing, pydantic) as a warm Lambda would have them
        best, median = best_rate(work)
    print(
        f'ingest: {best:,.0f} events/s per core (median {median:,.0f}; '
        f'{stub.record_bytes / stub.records:.0f} bytes/record); target >= 20,000'
    )


if __name__ == '__main__':
    main()
