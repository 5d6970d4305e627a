"""A stand-in stream writer for the poller tests: fails on the records it is told to."""

import base64
from typing import Any

invocations: list[list[bytes]] = []
report_once: set[bytes] = set()  # answered as batchItemFailures the first time they are seen


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = [(r['kinesis']['sequenceNumber'], base64.b64decode(r['kinesis']['data'])) for r in event['Records']]
    invocations.append([data for _, data in records])
    if any(data == b'boom' for _, data in records):
        raise RuntimeError('boom')
    failed = [sequence for sequence, data in records if data in report_once]
    report_once.difference_update(data for _, data in records)
    return {'batchItemFailures': [{'itemIdentifier': sequence} for sequence in failed]}
