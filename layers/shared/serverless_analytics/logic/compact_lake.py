"""Lake compaction (DESIGN §5), run on a schedule: every partition with small files or duplicate event ids
gets its small files merged, each event id kept once (the rules are in lake.compaction)."""

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
    listed = f'{prefix}/project_id={request.project_id}/' if request.project_id else f'{prefix}/'
    objects = s3.list_objects(settings.LAKE_BUCKET, listed)
    return compaction.partitions(prefix, [LakeFile(item.key, item.size) for item in objects])


def compact_partition(files: list[LakeFile], settings: Settings) -> PartitionPlan:
    bucket, target = settings.LAKE_BUCKET, settings.LAKE_COMPACTION_TARGET_BYTES
    plan = compaction.plan_partition([FileIds(file, _read_ids(bucket, file, target)) for file in files], target)
    for group in plan.groups:
        if not group.keeps_nothing:
            bodies = [s3.get_object(bucket, file.key) for file in group.inputs]
            s3.put_object(bucket, group.output_key, compaction.merge(bodies, group.keep))
        # Only once the merged file is stored: a run stopped before this leaves copies, never a gap.
        s3.delete_objects(bucket, [file.key for file in group.inputs if file.key != group.output_key])
    return plan


def _read_ids(bucket: str, file: LakeFile, target: int) -> pa.Table:
    if file.size < target:  # read whole: small, and merged (read again) anyway
        return compaction.read_ids(s3.get_object(bucket, file.key))
    return compaction.read_ids(compaction.RangedReader(partial(s3.get_range, bucket, file.key), file.size))


def _add(result: CompactionResult, plan: PartitionPlan) -> None:
    result.partitions_compacted += 1
    result.files_replaced += sum(len(group.inputs) for group in plan.groups)
    result.files_written += sum(not group.keeps_nothing for group in plan.groups)
    result.duplicates_dropped += plan.duplicates
