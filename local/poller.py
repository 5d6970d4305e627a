"""The Kinesis event source mapping of the stream writer, run locally.

Per shard, like Lambda: read from the starting position, gather up to BatchSize records or until the
batching window passes, invoke the function with the Kinesis trigger event, and act on the result:
- `batchItemFailures` (ReportBatchItemFailures): checkpoint before the lowest failed sequence number and
  redeliver from there;
- a function error: retry, bisecting the batch first when BisectBatchOnFunctionError is on (splitting does
  not use up the retry quota);
- retries exhausted or records older than MaximumRecordAgeInSeconds: write the invocation record to the
  on-failure destination and move on.
"""

import base64
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.environment import local_client
from local.runtime import LocalFunction
from local.template import ACCOUNT_ID, REGION, FunctionSpec, KinesisSource

_LOG = logging.getLogger('local.poller')
MAX_BACKOFF_SECONDS = 2.0


@dataclass(frozen=True)
class Attempt:
    records: list[dict[str, Any]]
    retries: int  # failed invocations of these records so far


@dataclass(frozen=True)
class Outcome:
    """What an invocation asks of the mapping: nothing, redeliver from a record, or a function error."""

    request_id: str
    failed_from: int | None = None  # index of the first record to redeliver
    function_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.failed_from is None


def _arrival(record: dict[str, Any]) -> float:
    return round(record['ApproximateArrivalTimestamp'].timestamp(), 3)


def kinesis_trigger_event(function: FunctionSpec, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The Kinesis trigger event Lambda sends `function` for `records` (as GetRecords returns them) of one shard
    of its stream."""
    role_arn = f'arn:aws:iam::{ACCOUNT_ID}:role/{function.logical_id}Role'
    return {
        'Records': [
            {
                'kinesis': {
                    'kinesisSchemaVersion': '1.0',
                    'partitionKey': record['PartitionKey'],
                    'sequenceNumber': record['SequenceNumber'],
                    'data': base64.b64encode(record['Data']).decode(),
                    'approximateArrivalTimestamp': _arrival(record),
                },
                'eventSource': 'aws:kinesis',
                'eventVersion': '1.0',
                'eventID': f'{shard_id}:{record["SequenceNumber"]}',
                'eventName': 'aws:kinesis:record',
                'invokeIdentityArn': role_arn,
                'awsRegion': REGION,
                'eventSourceARN': function.kinesis.stream_arn,
            }
            for record in records
        ]
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


class KinesisPoller:
    def __init__(self, function: LocalFunction, endpoint: str, poll_interval_seconds: float = 0.2) -> None:
        if function.spec.kinesis is None:
            raise ValueError(f'{function.spec.logical_id} has no Kinesis trigger')
        self.source: KinesisSource = function.spec.kinesis  # the mapping's settings, read where the events' ARN is
        self.function = function
        self.poll_interval_seconds = poll_interval_seconds
        self.mapping_uuid = str(uuid.uuid4())
        self._kinesis = local_client('kinesis', endpoint)
        self._s3 = local_client('s3', endpoint)
        self._stop = threading.Event()
        self._draining = threading.Event()  # set while someone waits in drain(): a batch need not wait its window
        self._progress = threading.Condition()
        self._checkpoints: dict[str, str | None] = {}
        self._threads: list[threading.Thread] = []
        self.discarded_batches = 0

    # ---- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        for shard_id in self._shard_ids():
            self._checkpoints[shard_id] = None
            thread = threading.Thread(target=self._poll_shard, args=(shard_id,), name=f'poller-{shard_id}', daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _shard_ids(self) -> list[str]:
        shards = self._kinesis.list_shards(StreamName=self.source.stream_name)['Shards']
        return [shard['ShardId'] for shard in shards]

    # ---- drain --------------------------------------------------------------------------------------

    def drain(self, timeout: float = 60.0) -> None:
        """Return once every record now in the stream has been handled (written or sent to on-failure)."""
        deadline = time.monotonic() + timeout
        targets = {shard_id: self._tip(shard_id) for shard_id in self._checkpoints}
        # Lambda may invoke before a batch's window is over (it does when the batch is full); doing so while someone
        # waits keeps a long window (the user directory's minute) from holding up every drain.
        self._draining.set()
        try:
            with self._progress:
                while not all(self._reached(shard_id, target) for shard_id, target in targets.items()):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(
                            f'Stream not drained in {timeout}s: targets {targets}, at {self._checkpoints}'
                        )
                    self._progress.wait(min(remaining, 0.5))
        finally:
            self._draining.clear()

    def _reached(self, shard_id: str, target: int | None) -> bool:
        checkpoint = self._checkpoints[shard_id]
        return target is None or (checkpoint is not None and int(checkpoint) >= target)

    def _tip(self, shard_id: str) -> int | None:
        """The highest sequence number in the shard beyond its checkpoint (None: nothing to wait for)."""
        checkpoint = self._checkpoints[shard_id]
        iterator = self._iterator(shard_id, checkpoint)
        tip = None
        while iterator:
            response = self._kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            if not response['Records']:
                break
            tip = int(response['Records'][-1]['SequenceNumber'])
            iterator = response.get('NextShardIterator')
        return tip

    # ---- polling ------------------------------------------------------------------------------------

    def _iterator(self, shard_id: str, after: str | None) -> str:
        if after is not None:
            position = {'ShardIteratorType': 'AFTER_SEQUENCE_NUMBER', 'StartingSequenceNumber': after}
        else:
            position = {'ShardIteratorType': self.source.starting_position}
        response = self._kinesis.get_shard_iterator(StreamName=self.source.stream_name, ShardId=shard_id, **position)
        return response['ShardIterator']

    def _poll_shard(self, shard_id: str) -> None:
        iterator: str | None = None
        while not self._stop.is_set():
            try:
                iterator = iterator or self._iterator(shard_id, self._checkpoints[shard_id])
                records, iterator = self._gather(iterator)
                if records and self._deliver(shard_id, records):
                    self._checkpoint(shard_id, records[-1]['SequenceNumber'])
                if iterator is None:
                    _LOG.info('Shard %s is closed; its poller ends', shard_id)
                    return
            except Exception:
                # Start again from the checkpoint: records in flight are delivered again (at least once).
                _LOG.exception('Polling %s failed; resuming from its checkpoint', shard_id)
                iterator = None
                self._stop.wait(1.0)

    def _gather(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        """Up to BatchSize records, waiting at most the batching window after the first one arrives."""
        batch: list[dict[str, Any]] = []
        first_at: float | None = None
        next_iterator: str | None = iterator
        while next_iterator and not self._stop.is_set():
            response = self._kinesis.get_records(ShardIterator=next_iterator, Limit=self.source.batch_size - len(batch))
            next_iterator = response.get('NextShardIterator')
            batch += response['Records']
            if batch and first_at is None:
                first_at = time.monotonic()
            if len(batch) >= self.source.batch_size:
                break
            if first_at is not None and (
                self._draining.is_set() or time.monotonic() - first_at >= self.source.batching_window_seconds
            ):
                break
            if not response['Records']:
                self._stop.wait(self.poll_interval_seconds)
        return batch, next_iterator

    def _checkpoint(self, shard_id: str, sequence: str) -> None:
        with self._progress:
            self._checkpoints[shard_id] = sequence
            self._progress.notify_all()

    # ---- delivery -----------------------------------------------------------------------------------

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> bool:
        """Handle a batch to the end; False when stopped half-way (nothing may be checkpointed then)."""
        pending = deque([Attempt(records, retries=0)])
        while pending:
            attempt = self._without_expired(shard_id, pending.popleft())
            if not attempt.records:
                continue
            outcome = self._invoke(shard_id, attempt.records)
            if outcome.succeeded:
                continue
            remaining = attempt.records[outcome.failed_from :]
            if outcome.function_error and self.source.bisect_on_error and len(remaining) > 1:
                middle = len(remaining) // 2
                pending.extendleft(
                    [Attempt(remaining[middle:], attempt.retries), Attempt(remaining[:middle], attempt.retries)]
                )
                continue
            retries = attempt.retries + 1
            if 0 <= self.source.max_retry_attempts < retries:
                self._discard(shard_id, remaining, outcome, retries, 'RetryAttemptsExhausted')
                continue
            if self._stop.wait(min(0.1 * 2**attempt.retries, MAX_BACKOFF_SECONDS)):
                return False
            pending.appendleft(Attempt(remaining, retries))
        return True

    def _without_expired(self, shard_id: str, attempt: Attempt) -> Attempt:
        if self.source.max_record_age_seconds < 0:
            return attempt
        oldest_allowed = time.time() - self.source.max_record_age_seconds
        expired = [record for record in attempt.records if _arrival(record) < oldest_allowed]
        if expired:
            outcome = Outcome(request_id='', failed_from=0)
            self._discard(shard_id, expired, outcome, attempt.retries, 'RecordAgeExceeded')
        return Attempt([record for record in attempt.records if _arrival(record) >= oldest_allowed], attempt.retries)

    def event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return kinesis_trigger_event(self.function.spec, shard_id, records)

    def _invoke(self, shard_id: str, records: list[dict[str, Any]]) -> Outcome:
        context = self.function.context()
        try:
            result = self.function.invoke(self.event(shard_id, records), context)
        except Exception as error:
            _LOG.exception('%s failed on a batch of %d records', self.function.spec.logical_id, len(records))
            return Outcome(context.aws_request_id, failed_from=0, function_error=type(error).__name__)
        if not self.source.report_batch_item_failures:
            return Outcome(context.aws_request_id)
        return Outcome(context.aws_request_id, failed_from=self._first_failure(records, result))

    @staticmethod
    def _first_failure(records: list[dict[str, Any]], result: Any) -> int | None:
        """Index to redeliver from; an unreadable failure list fails the whole batch, as in Lambda."""
        failures = result.get('batchItemFailures') if isinstance(result, dict) else None
        if not failures:
            return None
        positions = {record['SequenceNumber']: index for index, record in enumerate(records)}
        identifiers = [entry.get('itemIdentifier') if isinstance(entry, dict) else None for entry in failures]
        if any(identifier not in positions for identifier in identifiers):
            _LOG.error('batchItemFailures names records not in the batch (%s); retrying all of it', identifiers)
            return 0
        return min(positions[identifier] for identifier in identifiers)

    def _discard(
        self, shard_id: str, records: list[dict[str, Any]], outcome: Outcome, invocations: int, condition: str
    ) -> None:
        """Keep the batch in the on-failure destination, as Lambda's S3 destination does, and skip it."""
        self.discarded_batches += 1
        _LOG.error('Discarding %d records of %s (%s)', len(records), shard_id, condition)
        if not self.source.on_failure_bucket:
            return
        now = datetime.now(UTC)
        record = self.failure_record(shard_id, records, outcome, invocations, condition, now)
        key = f'aws/lambda/{self.mapping_uuid}/{shard_id}/{now:%Y/%m/%d/%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}'
        try:
            self._s3.put_object(Bucket=self.source.on_failure_bucket, Key=key, Body=json.dumps(record).encode())
        except ClientError:
            _LOG.exception('Could not write the on-failure record %s', key)

    def failure_record(
        self,
        shard_id: str,
        records: list[dict[str, Any]],
        outcome: Outcome,
        invocations: int,
        condition: str,
        now: datetime,
    ) -> dict[str, Any]:
        response = {'statusCode': 200, 'executedVersion': '$LATEST'}
        if outcome.function_error:
            response['functionError'] = 'Unhandled'
        return {
            'requestContext': {
                'requestId': outcome.request_id,
                'functionArn': self.function.spec.arn,
                'condition': condition,
                'approximateInvokeCount': invocations,
            },
            'responseContext': response,
            'version': '1.0',
            'timestamp': now.isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
            'KinesisBatchInfo': {
                'shardId': shard_id,
                'startSequenceNumber': records[0]['SequenceNumber'],
                'endSequenceNumber': records[-1]['SequenceNumber'],
                'approximateArrivalOfFirstRecord': _iso(_arrival(records[0])),
                'approximateArrivalOfLastRecord': _iso(_arrival(records[-1])),
                'batchSize': len(records),
                'streamArn': self.source.stream_arn,
            },
            'payload': json.dumps(self.event(shard_id, records)),
        }
