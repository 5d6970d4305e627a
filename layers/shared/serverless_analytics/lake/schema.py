"""Arrow schema of one event row, derived from the canonical event (models.event.CanonicalEvent): a field added
there is a lake column here and a field the stream writer accepts. The Glue table in template.yaml declares the
same columns (tests/unit/test_template.py checks it)."""

from datetime import datetime
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pyarrow as pa

from serverless_analytics.models.event import CanonicalEvent

TIMESTAMP = pa.timestamp('ms', tz='UTC')
STRINGS = pa.list_(pa.string())
_LAKE_TYPES: dict[Any, pa.DataType] = {str: pa.string(), datetime: TIMESTAMP, bool: pa.bool_(), list[str]: STRINGS}


def lake_type(name: str, annotation: Any) -> pa.DataType:
    """The column type of a canonical field. Every column is nullable, as in the files written so far, whether
    or not the model allows None; a Literal of strings (category, priority) is a string."""
    if get_origin(annotation) in (UnionType, Union):  # `X | None`, or `Optional[X]`
        annotation, *others = [arg for arg in get_args(annotation) if arg is not NoneType]
        if others:
            raise TypeError(f'Canonical field {name} has several types; the lake has one per column')
    if get_origin(annotation) is Literal and all(isinstance(value, str) for value in get_args(annotation)):
        return pa.string()
    try:
        return _LAKE_TYPES[annotation]
    except KeyError:
        raise TypeError(f'Canonical field {name}: no lake column type for {annotation!r}') from None


ROW_SCHEMA = pa.schema([(name, lake_type(name, kind)) for name, kind in get_type_hints(CanonicalEvent).items()])

# project_id and dt are Hive partition columns: in the object key, not in the file.
PARTITION_COLUMNS = ('project_id', 'dt')
FILE_SCHEMA = pa.schema([field for field in ROW_SCHEMA if field.name not in PARTITION_COLUMNS])
# What a row cannot be keyed, partitioned or counted without. Any other field may be missing from a record and is
# null in the lake: the ingest API leaves nulls out, and a record made before a field was added still lands.
REQUIRED_COLUMNS = ('event_id', 'project_id', 'name', 'category', 'priority', 'timestamp', 'received_at')
