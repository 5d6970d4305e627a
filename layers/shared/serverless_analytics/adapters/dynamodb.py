"""DynamoDB access: API keys, event ids (idempotency), per-project counters.

Tables (names from settings, schemas in template.yaml):
- API keys:  pk `key_id`.
- Events:    pk `pk` = `<project>#<event_id>` for written events, `seq#<shard>#<sequence>` for markers of
             stream records that were counted without writing an event (duplicates, quarantined). TTL `expires_at`.
- Counters:  pk `project_id`, sk `counter` (`total`, `day#YYYY-MM-DD`, `hour#YYYY-MM-DDTHH`, `pipeline`).
- Rollup state: pk `pk`, sk `sk`: the (project, day) partitions touched since their last rollup (`touched`,
             `<project>/<day>`) and the jobs' locks (`lock`, `<job>`). TTL `expires_at` (locks only).
- Aggregates: pk `pk` = `<project>/dau`, sk `sk` = `<day>`: that UTC day's active users, all and per template.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from typing import Any, NamedTuple

from serverless_analytics.adapters.clients import answering_unavailable, client, pause_before_retry

MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET_KEYS = 100
BACKOFF_SECONDS = 0.05  # first pause before asking again for unprocessed keys or a cancelled transaction
TRANSACTION_ATTEMPTS = 5
# The stream writer's event lookups and inserts are built whole here, from strings and integers, one item per event:
# botocore's check of each against the API model cost ~13 µs a put and ~4 µs a key, a third of the SDK's work per
# event (bench/bench_stream_writer.py, "with the AWS SDK"), and DynamoDB checks them all the same.
_WRITER_VALIDATES = False


@dataclass(frozen=True)
class CounterDelta:
    """Numbers to add to one counter item, plus plain values to set on it."""

    sort_key: str
    add: Mapping[str, int]
    set: Mapping[str, Any] = field(default_factory=dict)
    expires_at: int | None = None


@cache
def _codec() -> tuple[Any, Any]:
    # Imported on first use: `boto3.dynamodb.types` imports all of boto3, ~250 ms of a cold start.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _serialize(value: Any) -> dict[str, Any]:
    # Strings and ints by hand: they are nearly every value the stream writer sends (counter keys, amounts,
    # expiries), and TypeSerializer's generic dispatch costs ~10x more per value.
    kind = type(value)
    if kind is str:
        return {'S': value}
    if kind is int:
        return {'N': str(value)}
    return _codec()[0].serialize(value)


def _deserialize(value: dict[str, Any]) -> Any:
    return _codec()[1].deserialize(value)


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in values.items() if value is not None}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserialize(value) for name, value in item.items()}


def get_item(table: str, key: Mapping[str, str]) -> dict[str, Any] | None:
    with answering_unavailable('DynamoDB request'):
        response = client('dynamodb').get_item(TableName=table, Key=_to_item(key), ConsistentRead=True)
    return _from_item(response['Item']) if 'Item' in response else None


def put_item(table: str, item: Mapping[str, Any]) -> None:
    with answering_unavailable('DynamoDB request'):
        client('dynamodb').put_item(TableName=table, Item=_to_item(item))


def update_item(table: str, key: Mapping[str, str], set_values: Mapping[str, Any]) -> bool:
    """Set attributes on an existing item; False when the item does not exist."""
    names = {f'#a{i}': name for i, name in enumerate(set_values)}
    values = {f':v{i}': _serialize(value) for i, value in enumerate(set_values.values())}
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        try:
            dynamodb.update_item(
                TableName=table,
                Key=_to_item(key),
                UpdateExpression='SET ' + ', '.join(f'#a{i} = :v{i}' for i in range(len(set_values))),
                ConditionExpression=f'attribute_exists({next(iter(key))})',
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
    return True


def scan_items(table: str) -> list[dict[str, Any]]:
    """Every item of a small table (the API keys; used by the admin CLI only)."""
    paginator = client('dynamodb').get_paginator('scan')
    return [_from_item(item) for page in paginator.paginate(TableName=table) for item in page['Items']]


def _counter_update(table: str, project_id: str, delta: CounterDelta) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds, sets = [], []
    for i, (name, amount) in enumerate(delta.add.items()):
        names[f'#n{i}'], values[f':n{i}'] = name, _serialize(amount)
        adds.append(f'#n{i} :n{i}')
    for i, (name, value) in enumerate({**delta.set, 'expires_at': delta.expires_at}.items()):
        if value is not None:
            names[f'#s{i}'], values[f':s{i}'] = name, _serialize(value)
            sets.append(f'#s{i} = :s{i}')
    clauses = [f'{verb} {", ".join(parts)}' for verb, parts in (('ADD', adds), ('SET', sets)) if parts]
    expression = ' '.join(clauses)
    return {
        'Update': {
            'TableName': table,
            'Key': _to_item({'project_id': project_id, 'counter': delta.sort_key}),
            'UpdateExpression': expression,
            'ExpressionAttributeNames': names,
            'ExpressionAttributeValues': values,
        }
    }


def add_to_counters(table: str, project_id: str, deltas: Sequence[CounterDelta]) -> None:
    """Apply counter deltas outside a transaction (the ingest side's `accepted` figure)."""
    for delta in deltas:
        update = _counter_update(table, project_id, delta)['Update']
        with answering_unavailable('DynamoDB request'):
            client('dynamodb').update_item(**update)


def get_counters(table: str, project_id: str, sort_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Counter items of one project by sort key (missing ones are absent from the result)."""
    keys = [_to_item({'project_id': project_id, 'counter': sort_key}) for sort_key in sort_keys]
    items = _batch_get(table, keys, consistent=True)
    return {item['counter']: item for item in items}


def _batch_get(
    table: str,
    keys: list[dict[str, Any]],
    consistent: bool = False,
    attributes: str | None = None,
    decode: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    validated: bool = True,
) -> list[dict[str, Any]]:
    """The items of `keys` that exist, 100 keys a request, retrying unprocessed keys with backoff; `decode` turns
    each from DynamoDB's typed form (the generic deserializer by default); `validated` as `clients.client`."""
    decode = decode or _from_item
    found: list[dict[str, Any]] = []
    projection = {'ProjectionExpression': attributes} if attributes else {}
    for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
        request = {
            table: {'Keys': keys[start : start + MAX_BATCH_GET_KEYS], 'ConsistentRead': consistent, **projection}
        }
        retry = 0
        while request:
            with answering_unavailable('DynamoDB request'):
                response = client('dynamodb', validated=validated).batch_get_item(RequestItems=request)
            found.extend(decode(item) for item in response['Responses'].get(table, []))
            request = response.get('UnprocessedKeys') or {}
            if request:  # unprocessed keys mean the table is throttling: back off before asking again
                retry += 1
                pause_before_retry(retry, BACKOFF_SECONDS)
    return found


def get_event_writers(table: str, pks: Sequence[str]) -> dict[str, str]:
    """For the event keys that exist, the stream record (`shard#sequence`) that wrote each."""
    keys = [{'pk': {'S': pk}} for pk in dict.fromkeys(pks)]  # a plain string key, as insert_events writes it
    items = _batch_get(table, keys, consistent=True, attributes='pk, written_by', validated=_WRITER_VALIDATES)
    return {item['pk']: item['written_by'] for item in items}


def _transact(operations: list[dict[str, Any]], validated: bool = True) -> list[int]:
    """Run one transaction; returns the indices of operations whose condition failed (nothing was written then).

    A cancellation for another reason is transient (a conflict with a concurrent transaction, throttling) and
    is retried here: every stream writer of a project updates the same total and pipeline counters, so
    concurrent shards conflict, and failing the batch instead would redeliver it and could write its lake rows
    a second time. `validated` as `clients.client`."""
    dynamodb = client('dynamodb', validated=validated)
    for attempt in count(1):
        with answering_unavailable('DynamoDB request'):
            try:
                dynamodb.transact_write_items(TransactItems=operations)
                return []
            except dynamodb.exceptions.TransactionCanceledException as error:
                reasons = error.response.get('CancellationReasons', [])
                failed = [i for i, reason in enumerate(reasons) if reason.get('Code') == 'ConditionalCheckFailed']
                if failed:
                    return failed
                if attempt == TRANSACTION_ATTEMPTS:
                    raise
        pause_before_retry(attempt, BACKOFF_SECONDS)
    raise AssertionError('unreachable: count() does not end')


def insert_events(
    events_table: str,
    counters_table: str,
    project_id: str,
    events: Sequence[tuple[str, str]],
    expires_at: int,
    deltas: Sequence[CounterDelta],
) -> list[int]:
    """Write new events (`(pk, written_by)`: the event key and the stream record that wrote it) and their counter
    deltas atomically, each event only if its key is new.

    Returns the indices of `events` that already existed; in that case nothing at all was written and the
    caller retries with those events removed (and the deltas recomputed).
    """
    # Items written out rather than through _to_item, and their expiry shared: three attributes of known types, once
    # per event on the stream writer's hot path.
    expiry = {'N': str(expires_at)}
    operations: list[dict[str, Any]] = [
        {
            'Put': {
                'TableName': events_table,
                'Item': {'pk': {'S': pk}, 'written_by': {'S': written_by}, 'expires_at': expiry},
                'ConditionExpression': 'attribute_not_exists(pk)',
            }
        }
        for pk, written_by in events
    ]
    operations += [_counter_update(counters_table, project_id, delta) for delta in deltas]
    if len(operations) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f'{len(operations)} operations exceed the transaction limit')
    return [i for i in _transact(operations, validated=_WRITER_VALIDATES) if i < len(events)]


class Marker(NamedTuple):
    """A stream record counted without writing an event (a duplicate, a quarantined record)."""

    pk: str  # `seq#<shard>#<sequence>`: its presence makes counting the record again a no-op
    # (event_pk, record_id): count only if that event was not written by this very record, which would make
    # the record a redelivery of the writer rather than a duplicate
    not_written_by: tuple[str, str] | None = None


def _marker_operations(events_table: str, marker: Marker, expires_at: int) -> list[dict[str, Any]]:
    operations: list[dict[str, Any]] = [
        {
            'Put': {
                'TableName': events_table,
                'Item': _to_item({'pk': marker.pk, 'expires_at': expires_at}),
                'ConditionExpression': 'attribute_not_exists(pk)',
            }
        }
    ]
    if marker.not_written_by:
        event_pk, record_id = marker.not_written_by
        operations.append(
            {
                'ConditionCheck': {
                    'TableName': events_table,
                    'Key': _to_item({'pk': event_pk}),
                    'ConditionExpression': 'attribute_not_exists(#s) OR #s <> :s',
                    'ExpressionAttributeNames': {'#s': 'written_by'},
                    'ExpressionAttributeValues': {':s': _serialize(record_id)},
                }
            }
        )
    return operations


def _marker_chunks(markers: Sequence[Marker]) -> list[list[Marker]]:
    """Markers whose operations, plus the one counter update, fit in a transaction, which may not check one
    event twice (DynamoDB refuses two operations on one item)."""
    chunks: list[list[Marker]] = []
    size = 0
    checked: set[str] = set()
    for marker in markers:
        event_pk = marker.not_written_by[0] if marker.not_written_by else None
        cost = 1 if event_pk is None else 2
        if not chunks or size + cost + 1 > MAX_TRANSACTION_ITEMS or event_pk in checked:
            chunks.append([])
            size, checked = 0, set()
        chunks[-1].append(marker)
        size += cost
        if event_pk is not None:
            checked.add(event_pk)
    return chunks


def record_markers(
    events_table: str,
    counters_table: str,
    project_id: str,
    markers: Sequence[Marker],
    expires_at: int,
    counter: str,
    sort_key: str,
) -> None:
    """Count stream records that wrote no event, each exactly once, into `counter` of the `sort_key` item.

    A transaction per up to ~50-100 markers (one per record cost a round trip each, so a client re-sending a
    batch of events cost the writer a transaction per event). A marker whose condition fails, counted before or
    a redelivery, cancels the whole transaction: it is dropped and the rest retried."""
    for chunk in _marker_chunks(markers):
        while chunk:
            operations: list[dict[str, Any]] = []
            owners: list[int] = []  # the marker each operation belongs to
            for index, marker in enumerate(chunk):
                marker_operations = _marker_operations(events_table, marker, expires_at)
                operations += marker_operations
                owners += [index] * len(marker_operations)
            delta = CounterDelta(sort_key, add={counter: len(chunk)})
            operations.append(_counter_update(counters_table, project_id, delta))
            refused = {owners[i] for i in _transact(operations) if i < len(owners)}
            chunk = [marker for index, marker in enumerate(chunk) if index not in refused] if refused else []


def table_status(table: str) -> str:
    return client('dynamodb').describe_table(TableName=table)['Table']['TableStatus']


def delete_item(table: str, key: Mapping[str, str]) -> None:
    with answering_unavailable('DynamoDB request'):
        client('dynamodb').delete_item(TableName=table, Key=_to_item(key))


class TouchedPartition(NamedTuple):
    project_id: str
    day: str  # YYYY-MM-DD
    touch: str  # the last batch's own mark: two batches in one millisecond must not look alike


TOUCHED = 'touched'
LOCK = 'lock'


def mark_touched(table: str, partitions: Iterable[tuple[str, str]], touch: str) -> None:
    """Record that these (project, day) partitions received events (one write per partition and batch); `touch`
    is unique to the batch, so a rollup forgets a partition only if no batch touched it after the rollup read it."""
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        for project_id, day in sorted(set(partitions)):
            dynamodb.update_item(
                TableName=table,
                Key=_to_item({'pk': TOUCHED, 'sk': f'{project_id}/{day}'}),
                UpdateExpression='SET project_id = :p, #day = :d, touched_by = :t',
                ExpressionAttributeNames={'#day': 'day'},
                ExpressionAttributeValues=_to_item({':p': project_id, ':d': day, ':t': touch}),
            )


def touched_partitions(table: str) -> list[TouchedPartition]:
    paginator = client('dynamodb').get_paginator('query')
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression='pk = :pk',
        ExpressionAttributeValues=_to_item({':pk': TOUCHED}),
        ConsistentRead=True,
    )
    with answering_unavailable('DynamoDB request'):
        items = [_from_item(item) for page in pages for item in page['Items']]
    return [TouchedPartition(item['project_id'], item['day'], item['touched_by']) for item in items]


def clear_touched(table: str, partition: TouchedPartition) -> bool:
    """Forget a partition, unless a batch touched it again since it was read (then it stays for the next run)."""
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        try:
            dynamodb.delete_item(
                TableName=table,
                Key=_to_item({'pk': TOUCHED, 'sk': f'{partition.project_id}/{partition.day}'}),
                ConditionExpression='touched_by = :t',
                ExpressionAttributeValues=_to_item({':t': partition.touch}),
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
    return True


def acquire_lock(table: str, job: str, owner: str, now: int, expires_at: int) -> bool:
    """Take the job's lock unless another owner holds one that has not expired (epoch seconds)."""
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        try:
            dynamodb.put_item(
                TableName=table,
                Item=_to_item({'pk': LOCK, 'sk': job, 'owner': owner, 'expires_at': expires_at}),
                ConditionExpression='attribute_not_exists(pk) OR expires_at < :now',
                ExpressionAttributeValues=_to_item({':now': now}),
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
    return True


def release_lock(table: str, job: str, owner: str) -> None:
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        try:
            dynamodb.delete_item(
                TableName=table,
                Key=_to_item({'pk': LOCK, 'sk': job}),
                ConditionExpression='#owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues=_to_item({':owner': owner}),
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass  # it expired and another run holds it now


def put_daily_active_users(
    table: str, project_id: str, day: str, everyone: int, by_template: Mapping[str, int]
) -> None:
    put_item(table, {'pk': f'{project_id}/dau', 'sk': day, 'users': everyone, 'by_template': dict(by_template)})


def daily_active_users(table: str, project_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    paginator = client('dynamodb').get_paginator('query')
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression='pk = :pk AND sk BETWEEN :first AND :last',
        ExpressionAttributeValues=_to_item({':pk': f'{project_id}/dau', ':first': first_day, ':last': last_day}),
    )
    with answering_unavailable('DynamoDB request'):
        return [_from_item(item) for page in pages for item in page['Items']]


# --- Users: the user directory and status history (see logic.user_directory) ---
# Users table: pk `pk` = `<project>`, sk `sk` = `user/<user>` (the directory entry, versioned), `status/<user>/
# <changed_at>/<rank>-<event id>` (a status change: user_id, changed_at, new_status, n) and `deleted/<user>` (the
# deletion: user_id, deleted_at, event_id). Daily snapshots go to the aggregates table: pk `<project>/user-status`,
# sk `<day>`, the counts per status at that UTC midnight.

USER = 'user/'
STATUS = 'status/'
DELETED = 'deleted/'


def user_key(project_id: str, user_id: str) -> dict[str, str]:
    return {'pk': project_id, 'sk': f'{USER}{user_id}'}


def status_key(project_id: str, user_id: str, changed_at: str, n: str) -> dict[str, str]:
    return {'pk': project_id, 'sk': f'{STATUS}{user_id}/{changed_at}/{n}'}


def deleted_key(project_id: str, user_id: str) -> dict[str, str]:
    return {'pk': project_id, 'sk': f'{DELETED}{user_id}'}


def _plain_value(value: Any) -> dict[str, Any]:
    """A value of the users table (text, integers, booleans, lists and maps of them) in DynamoDB's JSON, by hand:
    the stream writer writes an entry per user and batch, and TypeSerializer took most of that time."""
    kind = type(value)
    if kind is str:
        return {'S': value}
    if kind is bool:
        return {'BOOL': value}
    if kind is int:
        return {'N': str(value)}
    if kind is dict:
        return {'M': {name: _plain_value(member) for name, member in value.items() if member is not None}}
    if kind is list or kind is tuple:
        return {'L': [_plain_value(member) for member in value]}
    return _serialize(value)


def _plain_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain_value(value) for name, value in values.items() if value is not None}


def _from_plain(value: Mapping[str, Any]) -> Any:
    """The reverse of _plain_value (numbers of the users table are integers). Text is looked for first, and a list's
    text members are read in place: nearly every value of a directory entry is text, and a call per value was most
    of the cost of reading the entries of a batch's users (the stream writer reads one per user and batch)."""
    if 'S' in value:
        return value['S']
    if 'L' in value:
        return [member['S'] if 'S' in member else _from_plain(member) for member in value['L']]
    ((kind, content),) = value.items()
    if kind == 'BOOL':
        return content
    if kind == 'N':
        return int(content)
    if kind == 'M':
        return {name: _from_plain(member) for name, member in content.items()}
    return _deserialize(dict(value))


def _from_plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value['S'] if 'S' in value else _from_plain(value) for name, value in item.items()}


def get_user_entries(table: str, project_id: str, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The directory entries of these users that exist, by user id (consistent reads, 100 keys per request)."""
    # Written out rather than through _plain_item(user_key(...)): one key per user and batch on the writer's path.
    keys = [{'pk': {'S': project_id}, 'sk': {'S': f'{USER}{user_id}'}} for user_id in dict.fromkeys(user_ids)]
    found = _batch_get(table, keys, consistent=True, decode=_from_plain_item)
    return {item['user_id']: item for item in found}


def get_user_entry(table: str, project_id: str, user_id: str) -> dict[str, Any] | None:
    with answering_unavailable('DynamoDB request'):
        response = client('dynamodb').get_item(
            TableName=table, Key=_plain_item(user_key(project_id, user_id)), ConsistentRead=True
        )
    return _from_plain_item(response['Item']) if 'Item' in response else None


class UserWrite(NamedTuple):
    """One user's new directory entry, written only if the stored one is still `expected_version` (None: absent),
    with the history items it adds and removes and its deletion item, all or nothing."""

    project_id: str
    entry: Mapping[str, Any]  # the directory entry's attributes, keys aside (`user_id` and `version` included)
    expected_version: int | None
    put_items: Sequence[Mapping[str, Any]]  # whole items, keys included
    delete_keys: Sequence[Mapping[str, str]]


def _versioned_put(table: str, write: UserWrite) -> dict[str, Any]:
    put: dict[str, Any] = {
        'TableName': table,
        'Item': _plain_item({**user_key(write.project_id, write.entry['user_id']), **write.entry}),
    }
    if write.expected_version is None:
        put['ConditionExpression'] = 'attribute_not_exists(pk)'
    else:
        put['ConditionExpression'] = '#version = :version'
        put['ExpressionAttributeNames'] = {'#version': 'version'}
        put['ExpressionAttributeValues'] = {':version': _plain_value(write.expected_version)}
    return put


def write_user(table: str, write: UserWrite) -> bool:
    """Write one user's entry and history items; False (nothing written) when the stored entry changed since it
    was read. One conditional put when no history item changes, the common case; else one transaction. Past a
    transaction's size (a hundred history changes at once), the extra puts go before it and the extra deletes
    after it, so that the entry never lists an item that is not written."""
    entry = _versioned_put(table, write)
    if not write.put_items and not write.delete_keys:
        return _put_if_unchanged(entry)
    changes = [{'Put': {'TableName': table, 'Item': _plain_item(item)}} for item in write.put_items]
    changes += [{'Delete': {'TableName': table, 'Key': _plain_item(key)}} for key in write.delete_keys]
    room = MAX_TRANSACTION_ITEMS - 1
    before = [c for c in changes[room:] if 'Put' in c]
    after = [c for c in changes[room:] if 'Delete' in c]
    for start in range(0, len(before), MAX_TRANSACTION_ITEMS):
        _transact(before[start : start + MAX_TRANSACTION_ITEMS])
    if _transact([{'Put': entry}, *changes[:room]]):
        return False
    for start in range(0, len(after), MAX_TRANSACTION_ITEMS):
        _transact(after[start : start + MAX_TRANSACTION_ITEMS])
    return True


def _put_if_unchanged(put: dict[str, Any]) -> bool:
    dynamodb = client('dynamodb')
    with answering_unavailable('DynamoDB request'):
        try:
            dynamodb.put_item(**put)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
    return True


def scan_user_entries(table: str) -> Iterable[dict[str, Any]]:
    """Every directory entry of every project, page by page (the daily status job). Eventually consistent, at half
    the price: an entry is written only under its version, so a stale one read here is read again before a write."""
    paginator = client('dynamodb').get_paginator('scan')
    pages = paginator.paginate(
        TableName=table,
        FilterExpression='begins_with(sk, :user)',
        ExpressionAttributeValues=_plain_item({':user': USER}),
    )
    with answering_unavailable('DynamoDB request'):
        for page in pages:
            yield from (_from_plain_item(item) for item in page['Items'])


def query_user_items(table: str, project_id: str, prefix: str) -> list[dict[str, Any]]:
    """A project's items whose sort key starts with `prefix` (STATUS: the history, DELETED: the deletions)."""
    paginator = client('dynamodb').get_paginator('query')
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression='pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues=_plain_item({':pk': project_id, ':prefix': prefix}),
    )
    with answering_unavailable('DynamoDB request'):
        return [_from_plain_item(item) for page in pages for item in page['Items']]


def put_user_status_snapshot(table: str, project_id: str, day: str, at: str, counts: Mapping[str, int]) -> None:
    item = {'pk': f'{project_id}/user-status', 'sk': day, 'at': at, 'counts': dict(counts)}
    with answering_unavailable('DynamoDB request'):
        client('dynamodb').put_item(TableName=table, Item=_plain_item(item))


def user_status_snapshots(table: str, project_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    paginator = client('dynamodb').get_paginator('query')
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression='pk = :pk AND sk BETWEEN :first AND :last',
        ExpressionAttributeValues=_plain_item(
            {':pk': f'{project_id}/user-status', ':first': first_day, ':last': last_day}
        ),
    )
    with answering_unavailable('DynamoDB request'):
        return [_from_plain_item(item) for page in pages for item in page['Items']]
