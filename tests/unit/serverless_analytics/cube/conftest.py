"""A tiny hand-written lake (two projects) for the compatibility tests, and a fixed `now`."""

import json
from datetime import UTC, datetime

import pytest

from serverless_analytics.engines import DuckDBEngine
from tests.differential.lake import write_lake

NOW = datetime(2024, 5, 15, 13, 3, tzinfo=UTC)  # a Wednesday

#  (project, timestamp, category, page_path, session, user, browser)
ROWS = [
    ('1', datetime(2024, 5, 6, 10, 0, tzinfo=UTC), 'page_view', '/docs', 's1', 'u1', 'Chrome'),
    ('1', datetime(2024, 5, 6, 10, 5, tzinfo=UTC), 'page_view', '/docs', 's1', 'u1', 'Chrome'),
    ('1', datetime(2024, 5, 8, 23, 30, tzinfo=UTC), 'user_action', '/pricing', 's2', 'u2', 'Firefox'),
    ('1', datetime(2024, 5, 13, 9, 0, tzinfo=UTC), 'page_view', '/docs', 's3', 'u1', 'Chrome'),
    ('1', datetime(2024, 5, 14, 12, 0, tzinfo=UTC), 'page_view', '/pricing', 's4', 'u3', None),
    ('1', datetime(2024, 5, 15, 8, 0, tzinfo=UTC), 'page_view', '/docs', 's5', 'u2', 'Firefox'),
    ('2', datetime(2024, 5, 14, 12, 0, tzinfo=UTC), 'page_view', '/secret', 'x1', 'v1', 'Chrome'),
]


def _events() -> list[dict]:
    return [
        {
            'project_id': project,
            'event_id': f'e{index}',
            'name': category,
            'category': category,
            'timestamp': stamp,
            'session_id': session,
            'user_id': user,
            'page_path': path,
            'page_title': path.strip('/').title(),
            'page_url': f'https://example.com{path}',
            'browser_family': browser,
            'is_bot': False,
            'properties': json.dumps({'viewport_size': '1280x720'}),
        }
        for index, (project, stamp, category, path, session, user, browser) in enumerate(ROWS)
    ]


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp('cube-lake')
    write_lake(root, _events())
    engine = DuckDBEngine(str(root))
    yield engine
    engine.close()
