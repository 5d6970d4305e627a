"""The app catalogue the usage rollup keeps (insights mapping §3): per (template, slug) the newest definition,
merged from days' builds in any order, any number of times, to the same catalogue; and the rollup merging each
run's days into it once per project, building it from every builds file when a lake has none yet."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serverless_analytics.adapters.s3 import StoredObject
from serverless_analytics.config import get_settings
from serverless_analytics.logic import usage_rollup
from serverless_analytics.logic.app_catalogue import CATALOGUE_SCHEMA, KEPT, catalogue_key, merged_catalogue
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA, builds_key
from serverless_analytics.models.usage import UsageRollupRequest

T1 = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
T2 = '0b7a5a3e-6f8e-4c33-9f0a-3c2e1d4b5a69'
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MS = timedelta(milliseconds=1)


def build(
    at: datetime, apps: dict[str, str], template: str | None = T1, received_at: datetime | None = None
) -> dict[str, Any]:
    """A build of `template` defining each app slug -> display name (its icon `/<slug>.svg`)."""
    return {
        'workspace_id': 'w1',
        'build_number': 1,
        'template_id': template,
        'created_at': at,
        'received_at': received_at or at,
        'template_version_id': 'v1',
        'apps': json.dumps(
            [
                {'agent_id': 'a1', 'slug': slug, 'display_name': name, 'icon': f'/{slug}.svg'}
                for slug, name in apps.items()
            ]
        ),
        'parameters': '[]',
        'template_parameters': '[]',
    }


def builds(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=BUILD_SCHEMA)


def names(catalogue: pa.Table) -> dict[tuple[str, str], str]:
    rows = catalogue.to_pylist()
    assert rows[0] == KEPT
    return {(row['template_id'], row['slug']): row['display_name'] for row in rows[1:]}


# Three days of builds: code-server renamed on the second, then on the third twice at the same instant.
DAYS = [
    builds(build(NINE, {'code-server': 'one', 'jupyter': 'Jupyter'}), build(NINE, {'code-server': 'T2'}, T2)),
    builds(build(NINE + DAY, {'code-server': 'two'}), build(NINE + DAY, {'x': 'no template'}, None)),
    builds(
        build(NINE + 2 * DAY, {'code-server': 'sent second'}, received_at=NINE + 2 * DAY + 2 * MS),
        build(NINE + 2 * DAY, {'code-server': 'sent first'}, received_at=NINE + 2 * DAY + MS),
    ),
]
EXPECTED = {(T1, 'code-server'): 'sent second', (T1, 'jupyter'): 'Jupyter', (T2, 'code-server'): 'T2'}


@pytest.mark.parametrize('order', list(permutations(range(3))))
def test_days_merged_one_by_one_in_any_order_and_again_give_the_same_catalogue(order):
    catalogue = None
    for index in [*order, order[0], order[1]]:  # and two days rolled up again, late
        catalogue = merged_catalogue(catalogue, [DAYS[index]])

    assert catalogue is not None and catalogue.schema == CATALOGUE_SCHEMA
    assert names(catalogue) == EXPECTED
    assert catalogue.equals(merged_catalogue(None, DAYS))


def test_an_older_definition_never_replaces_a_newer_one_and_the_later_received_wins_a_tie():
    stored = merged_catalogue(None, [builds(build(NINE, {'app': 'new'}))])

    older = merged_catalogue(stored, [builds(build(NINE - MS, {'app': 'old'}))])
    sent_later = merged_catalogue(stored, [builds(build(NINE, {'app': 'a later copy'}, received_at=NINE + MS))])
    sent_earlier = merged_catalogue(stored, [builds(build(NINE, {'app': 'sent before'}, received_at=NINE - MS))])

    assert [names(c) for c in (older, sent_later, sent_earlier)] == [
        {(T1, 'app'): 'new'},
        {(T1, 'app'): 'a later copy'},  # a re-sent definition replaces the one before, as the reference has it
        {(T1, 'app'): 'new'},
    ]


def test_a_project_without_a_build_of_a_template_has_a_catalogue_of_its_kept_row_only():
    catalogue = merged_catalogue(None, [builds(), builds(build(NINE, {'x': 'no template'}, None))])

    assert catalogue.to_pylist() == [KEPT]
    assert catalogue_key('usage', '7') == 'usage/project_id=7/catalogue/catalogue.parquet'


# --- the rollup -------------------------------------------------------------------------------------------------


class FakeBucket:
    """The lake bucket's objects, and every request the rollup makes of it."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.requests.append(('put', key))
        self.objects[key] = body

    def get_object(self, bucket: str, key: str) -> bytes:
        self.requests.append(('get', key))
        return self.objects[key]

    def get_object_if_any(self, bucket: str, key: str) -> bytes | None:
        self.requests.append(('get', key))
        return self.objects.get(key)

    def list_objects(self, bucket: str, prefix: str) -> list[StoredObject]:
        self.requests.append(('list', prefix))
        return [StoredObject(key, len(body)) for key, body in sorted(self.objects.items()) if key.startswith(prefix)]

    def table(self, key: str) -> pa.Table:
        return pq.read_table(io.BytesIO(self.objects[key]))


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


FIRST = NINE.date()
BY_DAY = {FIRST + index * DAY: table for index, table in enumerate(DAYS)}


@pytest.fixture
def bucket(monkeypatch) -> FakeBucket:
    """The rollup over a fake bucket, holding its lock; each day it recomputes writes that day's builds of
    `BY_DAY` (its buckets and active users are not these tests')."""
    fake = FakeBucket()
    for name in ('put_object', 'get_object', 'get_object_if_any', 'list_objects'):
        monkeypatch.setattr(usage_rollup.s3, name, getattr(fake, name))
    monkeypatch.setattr(usage_rollup.dynamodb, 'acquire_lock', lambda *_: True)
    monkeypatch.setattr(usage_rollup.dynamodb, 'release_lock', lambda *_: None)

    def recompute_day(project_id: str, day: date, settings: Any) -> usage_rollup.RecomputedDay:
        fake.put_object(settings.LAKE_BUCKET, builds_key(settings.USAGE_PREFIX, project_id, day), parquet(BY_DAY[day]))
        return usage_rollup.RecomputedDay(0, BY_DAY[day])

    monkeypatch.setattr(usage_rollup, 'recompute_day', recompute_day)
    return fake


def roll_up(days: list[date], seconds_left: Any = lambda: 900.0) -> usage_rollup.UsageRollupResult:
    request = UsageRollupRequest(project_id='7', dates=days)
    return usage_rollup.roll_up_usage(request, get_settings(), seconds_left)


def test_a_run_merges_its_days_into_the_catalogue_with_one_read_and_one_write(bucket):
    key = catalogue_key(get_settings().USAGE_PREFIX, '7')
    bucket.objects[key] = parquet(merged_catalogue(None, []))  # kept already, empty

    result = roll_up(list(BY_DAY))

    assert names(bucket.table(key)) == EXPECTED
    assert [request for request in bucket.requests if request[1] == key or request[0] == 'list'] == [
        ('get', key),
        ('put', key),
    ]
    assert result.days_recomputed == 3


def test_a_lake_from_before_the_catalogue_gets_it_from_every_builds_file_once(bucket):
    settings = get_settings()
    for day in list(BY_DAY)[:2]:  # rolled up before the catalogue was kept
        bucket.objects[builds_key(settings.USAGE_PREFIX, '7', day)] = parquet(BY_DAY[day])
    bucket.objects[builds_key(settings.USAGE_PREFIX, '70', FIRST)] = parquet(builds(build(NINE, {'x': 'other'})))
    last = list(BY_DAY)[2]

    roll_up([last])
    roll_up([last])

    assert names(bucket.table(catalogue_key(settings.USAGE_PREFIX, '7'))) == EXPECTED
    assert [request for request in bucket.requests if request[0] == 'list'] == [('list', 'usage/project_id=7/')]


def test_a_run_short_of_time_merges_the_days_it_recomputed(bucket):
    clock = iter([900.0, 900.0, 0.0])

    result = roll_up(list(BY_DAY), lambda: next(clock))

    assert (result.days_recomputed, result.days_left) == (2, 1)
    assert names(bucket.table(catalogue_key(get_settings().USAGE_PREFIX, '7'))) == {
        (T1, 'code-server'): 'two',
        (T1, 'jupyter'): 'Jupyter',
        (T2, 'code-server'): 'T2',
    }
