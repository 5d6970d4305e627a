"""Generated titles (inflection titleize of camelCase) and JS number rendering."""

import pytest

from serverless_analytics.cube.titles import humanize
from serverless_analytics.cube.values import js_number, js_string


@pytest.mark.parametrize(
    ('name', 'title'),
    [
        ('startAt', 'Start at'),
        ('sessionID', 'Session ID'),  # Cube 1.7 writes the word Id as ID
        ('userId', 'User ID'),
        ('ids', 'IDs'),
        ('apiIdKey', 'Api ID Key'),
        ('user_id2', 'User Id2'),
        ('identity', 'Identity'),
        ('TrackedEvents', 'Tracked Events'),
        ('SnowplowSessions', 'Snowplow Sessions'),
        ('derivedTstamp', 'Derived Tstamp'),
        ('first_timestamp', 'First Timestamp'),
        ('pageUrlpath', 'Page Urlpath'),
        ('count', 'Count'),
    ],
)
def test_humanize(name, title):
    assert humanize(name) == title


@pytest.mark.parametrize(
    ('value', 'text'),
    [
        (10.5, '10.5'),
        (10.0, '10'),
        (1e21, '1e+21'),
        (1e-7, '1e-7'),
        (0.000001, '0.000001'),
        (-2.5, '-2.5'),
        (123456789012.0, '123456789012'),
        (0.1 + 0.2, '0.30000000000000004'),
        (1.5e300, '1.5e+300'),
    ],
)
def test_js_number(value, text):
    assert js_number(value) == text


def test_js_string():
    assert [js_string(v) for v in (True, False, None, 3, 'x')] == ['true', 'false', None, '3', 'x']
