"""Injection attempts in member names, filter values, order and timezone are rejected or neutralised."""

from datetime import UTC, datetime

import pytest
import sqlglot

from serverless_analytics.cube import Target, compile_request, load
from serverless_analytics.models.errors import CubeQueryError
from tests.unit.serverless_analytics.cube.conftest import NOW

TARGET = Target('duckdb', "read_parquet('/lake/events/*/*/*.parquet', hive_partitioning = true)")


@pytest.mark.parametrize(
    'query',
    [
        {'measures': ['TrackedEvents.count; DROP TABLE events']},
        {'measures': ['TrackedEvents.count"']},
        {'dimensions': ['TrackedEvents.pageUrl) OR (1=1']},
        {'measures': ['TrackedEvents.count'], 'order': {'TrackedEvents.count DESC; --': 'asc'}},
        {'measures': ['TrackedEvents.count'], 'order': [['TrackedEvents.count', 'desc; DROP']]},
        {'measures': ['TrackedEvents.count'], 'timezone': "UTC'; DROP TABLE events; --"},
        {'measures': ['TrackedEvents.count'], 'timezone': '../../etc/passwd'},
        {
            'measures': ['TrackedEvents.count'],
            'filters': [{'member': "TrackedEvents.pageUrl' OR 1=1", 'operator': 'equals', 'values': ['a']}],
        },
        {'measures': ['TrackedEvents.count'], 'segments': ['TrackedEvents.knownUsers OR 1=1']},
        {
            'measures': ['TrackedEvents.count'],
            'filters': [{'member': 'TrackedEvents.latencyMs', 'operator': 'gt', 'values': ['1 OR 1=1']}],
        },
    ],
)
def test_malicious_names_are_rejected(query):
    with pytest.raises(CubeQueryError):
        compile_request(query, '1', TARGET, NOW)


@pytest.mark.parametrize('value', ["x' OR '1'='1", "'; DROP TABLE events; --", 'a\\', "%' --", '"quoted"'])
def test_filter_values_are_escaped_literals(value):
    query = {
        'measures': ['TrackedEvents.count'],
        'filters': [
            {'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': [value]},
            {'member': 'TrackedEvents.pageTitle', 'operator': 'contains', 'values': [value]},
        ],
    }
    for dialect in ('duckdb', 'trino'):
        _, _, compiled = compile_request(query, '1', Target(dialect, 'events'), NOW)
        parsed = sqlglot.parse_one(compiled[0].sql, read=dialect)
        literals = [node.this for node in parsed.find_all(sqlglot.exp.Literal) if node.is_string]
        assert value in literals  # the value survives as one string literal, nothing more
        assert len(list(parsed.find_all(sqlglot.exp.Drop))) == 0


def test_values_cannot_change_the_result(engine):
    attack = {
        'measures': ['TrackedEvents.count'],
        'filters': [{'member': 'TrackedEvents.pageUrlpath', 'operator': 'equals', 'values': ["x' OR '1'='1"]}],
    }
    assert load(attack, '1', engine, now=NOW)['data'] == [{'TrackedEvents.count': '0'}]


def test_project_id_is_a_literal(engine):
    body = load({'measures': ['TrackedEvents.count']}, "1' OR project_id = '2", engine, now=NOW)
    assert body['data'] == [{'TrackedEvents.count': '0'}]


def test_every_query_scans_with_the_project_predicate():
    for query in (
        {'measures': ['Sessions.count']},
        {'measures': ['ReturningUsers.count']},
        {'measures': ['TrackedEvents.count']},
    ):
        _, _, compiled = compile_request(query, '42', TARGET, datetime(2024, 1, 1, tzinfo=UTC))
        parsed = sqlglot.parse_one(compiled[0].sql, read='duckdb')
        scans = [
            s
            for s in parsed.find_all(sqlglot.exp.Select)
            if s.args.get('from_') and 'READ_PARQUET' in s.args['from_'].sql().upper()
        ]
        assert scans, query  # every cube reads the lake through at least one scan
        assert all("project_id = '42'" in s.sql() for s in scans)
