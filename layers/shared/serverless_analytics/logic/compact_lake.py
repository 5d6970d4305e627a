"""Lake compaction (DESIGN §5), run on a schedule: every partition with small files or duplicate event ids
gets its small files merged, each event id kept once (the rules are in lake.compaction)."""

import io
from collections.abc import Callable
from functools import partial

import pyarrow as pa

from serverless_analytics.adapters import s3
from serverless_analytics.config import Settings
from serverless_analytics.lake import compaction
from serverless_analytics.lake.compaction import FileIds, LakeFile, Partition, PartitionPlan
from serverless_analytics.models.compaction import CompactionRequest, CompactionResult
from serverless_analytics.models.errors import ServiceUnavailableError
from serverless_analytics.observability import logger


def compact_lake(request: CompactionRequest, settings: Settings, seconds_left: Callable[[], float]) -> CompactionResult:
    """Compact the partitions the request selects, one after another, while time is left."""
    target = settings.LAKE_COMPACTION_TARGET_BYTES
    todo = [
        (partition, files)
        for partition, files in sorted(_lake_partitions(request, settings).items())
        if request.includes(*partition) and compaction.worth_compacting(files, target)
    ]
    result = CompactionResult()
    for done, (partition, files) in enumerate(todo):
        if seconds_left() < settings.LAKE_COMPACTION_RESERVE_SECONDS:
            result.partitions_left = len(todo) - done
            logger.warning('Time ran short; the next run compacts the rest', extra={'left': result.partitions_left})
            break
        try:
            plan = compact_partition(files, settings)
        except (ServiceUnavailableError, pa.ArrowException):
            logger.exception('Compacting a partition failed', extra=partition._asdict())
            result.partitions_failed += 1
            continue
        _add(result, plan)
        logger.info('Compacted a partition', extra={**partition._asdict(), 'files': len(files)})
    return result


def _lake_partitions(request: CompactionRequest, settings: Settings) -> dict[Partition, list[LakeFile]]:
    prefix = settings.LAKE_PREFIX
    objects = [
        item for listed in _listing_prefixes(request, prefix) for item in s3.list_objects(settings.LAKE_BUCKET, listed)
    ]
    return compaction.partitions(prefix, [LakeFile(item.key, item.size) for item in objects])


def _listing_prefixes(request: CompactionRequest, prefix: str) -> list[str]:
    """Only the folders the request can select (a run by hand for a project and days lists just those)."""
    if request.project_id is None:
        return [f'{prefix}/']
    project = f'{prefix}/project_id={request.project_id}/'
    return [f'{project}dt={day.isoformat()}/' for day in request.dates] if request.dates else [project]


def compact_partition(files: list[LakeFile], settings: Settings) -> PartitionPlan:
    bucket, target = settings.LAKE_BUCKET, settings.LAKE_COMPACTION_TARGET_BYTES
    bodies = _SmallFileBodies(bucket, room=target)
    plan = compaction.plan_partition([FileIds(file, _read_ids(bucket, bodies, file, target)) for file in files], target)
    for group in plan.groups:
        if not group.keeps_nothing:
            merged = compaction.merge([bodies.take(file.key) for file in group.inputs], group.keep)
            s3.put_object(bucket, group.output_key, merged)
        # Only once the merged file is stored: a run stopped before this leaves copies, never a gap.
        s3.delete_objects(bucket, [file.key for file in group.inputs if file.key != group.output_key])
    return plan


class _SmallFileBodies:
    """Small files' bytes, fetched once for their ids and kept for their merge while they fit in `room` bytes.

    Beyond that they are fetched again when merged: a backlog of small files must not exhaust the memory."""

    def __init__(self, bucket: str, room: int) -> None:
        self._bucket = bucket
        self._room = room
        self._kept: dict[str, bytes] = {}

    def fetch(self, key: str) -> bytes:
        body = s3.get_object(self._bucket, key)
        if len(body) <= self._room:
            self._kept[key] = body
            self._room -= len(body)
        return body

    def take(self, key: str) -> bytes:
        """The file's bytes for its merge (each file is merged once, so they are not kept after)."""
        body = self._kept.pop(key, None)
        return body if body is not None else s3.get_object(self._bucket, key)


def _read_ids(bucket: str, bodies: _SmallFileBodies, file: LakeFile, target: int) -> pa.Table:
    if file.size < target:  # small: read whole, as its merge needs it all anyway
        return compaction.read_ids(io.BytesIO(bodies.fetch(file.key)))
    reader = compaction.RangedReader(partial(s3.get_range, bucket, file.key), file.size)
    return compaction.read_ids(reader)


def _add(result: CompactionResult, plan: PartitionPlan) -> None:
    result.partitions_compacted += 1
    result.files_replaced += sum(len(group.inputs) for group in plan.groups)
    result.files_written += sum(not group.keeps_nothing for group in plan.groups)
    result.duplicates_dropped += plan.duplicates
