"""Median compile time per Cube query (parse → normalise → SQL) over a mixed set with joins; target ≤ 5 ms.

Run: .venv/bin/python bench/bench_cube_compile.py [--rounds N] [--dialect duckdb|athena]
"""

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'layers' / 'shared'))

from serverless_analytics.cube import Target, compile_request, default_model  # noqa: E402

NOW = datetime(2024, 5, 15, 13, 3, tzinfo=UTC)
DAY = [{'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'day'}]
QUERIES = {
    'count': {'measures': ['TrackedEvents.count']},
    'unique users by day': {'measures': ['TrackedEvents.uniqueUsersCount'], 'timeDimensions': DAY, 'limit': 100},
    'page views by path': {
        'measures': ['TrackedEvents.pageViewsCount'],
        'dimensions': ['TrackedEvents.pageUrlpath', 'TrackedEvents.pageUrl'],
        'limit': 100,
    },
    'seed tracked events': {
        'measures': ['TrackedEvents.count'],
        'timeDimensions': [{'dimension': 'TrackedEvents.utcTime', 'dateRange': 'This week'}],
        'order': [['TrackedEvents.count', 'desc'], ['TrackedEvents.docPath', 'desc']],
        'dimensions': ['TrackedEvents.docPath'],
        'limit': 23,
    },
    'sessions by day': {
        'measures': ['Sessions.count'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'day'}],
        'order': {'Sessions.startAt': 'asc'},
        'limit': 100,
    },
    'sessions stats': {
        'measures': ['Sessions.averageDurationMinutes', 'Sessions.averagePerUser', 'Sessions.repeatPercent']
    },
    'filters and tz': {
        'measures': ['TrackedEvents.count', 'TrackedEvents.uniqueUsersCount'],
        'dimensions': ['TrackedEvents.agentName', 'TrackedEvents.osFamily'],
        'timeDimensions': [
            {'dimension': 'TrackedEvents.derivedTstamp', 'granularity': 'week', 'dateRange': 'last 30 days'}
        ],
        'filters': [
            {'member': 'TrackedEvents.pageUrlpath', 'operator': 'contains', 'values': ['docs', 'api']},
            {
                'or': [
                    {'member': 'TrackedEvents.event', 'operator': 'equals', 'values': ['page_view']},
                    {'member': 'TrackedEvents.eventName', 'operator': 'notSet'},
                ]
            },
            {'member': 'TrackedEvents.count', 'operator': 'gt', 'values': [10]},
        ],
        'segments': ['TrackedEvents.knownUsers'],
        'timezone': 'Europe/Paris',
        'total': True,
    },
    'join: events x sessions': {
        'measures': ['TrackedEvents.count', 'Sessions.averageDurationMinutes'],
        'dimensions': ['Sessions.agentName'],
        'timeDimensions': [{'dimension': 'TrackedEvents.derivedTstamp', 'dateRange': 'last 30 days'}],
        'limit': 100,
    },
    'join: events x users by day': {
        'measures': ['TrackedEvents.uniqueUsersCount', 'ReturningUsers.allSessionsCount'],
        'timeDimensions': DAY,
        'filters': [{'member': 'Sessions.agentName', 'operator': 'equals', 'values': ['Chrome']}],
        'limit': 100,
    },
    'join: three cubes': {
        'measures': ['TrackedEvents.count', 'Sessions.count', 'ReturningUsers.count'],
        'dimensions': ['ReturningUsers.sessionsCount', 'Sessions.osFamily'],
        'segments': ['TrackedEvents.humans'],
    },
    'returning users': {
        'measures': ['ReturningUsers.allSessionsCount', 'ReturningUsers.returningUserPercentage'],
        'timeDimensions': [{'dimension': 'ReturningUsers.first_timestamp', 'dateRange': ['2024-01-01', '2024-03-31']}],
    },
}


def measure(query_json: str, target: Target, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        compile_request(query_json, '42', target, NOW)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=200)
    parser.add_argument('--dialect', default='duckdb', choices=('duckdb', 'athena', 'trino'))
    args = parser.parse_args()
    default_model()  # the model is loaded once per Lambda container, not per query
    target = Target(
        args.dialect,
        "read_parquet('/lake/events/*/*/*.parquet', hive_partitioning = true)"
        if args.dialect == 'duckdb'
        else '"analytics"."events"',
    )
    medians = {name: measure(json.dumps(query), target, args.rounds) for name, query in QUERIES.items()}
    for name, value in medians.items():
        print(f'{name:<24} {value:7.3f} ms')
    overall = statistics.median(medians.values())
    print(f'{"median over the set":<24} {overall:7.3f} ms  (target <= 5 ms: {"OK" if overall <= 5 else "MISSED"})')


if __name__ == '__main__':
    main()
