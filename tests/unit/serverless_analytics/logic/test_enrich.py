from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic_core import to_json

from local.environment import stack_settings
from serverless_analytics.config import IpAnonymization, Settings
from serverless_analytics.logic.enrich import RequestContext, anonymize_ip, enrich
from serverless_analytics.models.event import TrackEventRequest

RECEIVED = datetime(2026, 11, 22, 12, 0, 5, 123456, tzinfo=UTC)
CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'


def _enrich(payload: dict, settings: Settings | None = None, **context):
    request = TrackEventRequest.model_validate({'event_name': 'click', **payload})
    ctx = RequestContext(**{'project_id': 'p1', 'received_at': RECEIVED, **context})
    return enrich(request, ctx, settings or stack_settings())


def test_missing_timestamp_is_the_receive_time_in_milliseconds():
    event = _enrich({})
    assert event['timestamp'] == event['received_at'] == datetime(2026, 11, 22, 12, 0, 5, 123000, tzinfo=UTC)
    assert not event['timestamp_clamped']


def test_sent_at_corrects_a_client_clock_that_runs_two_hours_late():
    # Given: the client's clock is 2 h behind; it recorded the event 5 s before sending
    event = _enrich({'timestamp': '2026-11-22T10:00:00Z', 'sent_at': '2026-11-22T10:00:05Z'})

    # Then: the event happened 5 s before the server received it
    assert event['timestamp'] == datetime(2026, 11, 22, 12, 0, 0, 123000, tzinfo=UTC)


def test_backfilled_past_timestamps_are_kept_as_given():
    event = _enrich({'timestamp': '2025-03-01T08:30:00.250+01:00'})
    assert event['timestamp'] == datetime(2025, 3, 1, 7, 30, 0, 250000, tzinfo=UTC)
    assert not event['timestamp_clamped']


def test_timestamps_far_in_the_future_are_clamped_and_flagged():
    future = (RECEIVED + timedelta(hours=2)).isoformat()
    event = _enrich({'timestamp': future})
    assert event['timestamp_clamped']
    assert event['timestamp'] == event['received_at']


def test_timestamps_slightly_ahead_are_within_tolerance():
    ahead = (RECEIVED + timedelta(minutes=10)).isoformat()
    event = _enrich({'timestamp': ahead})
    assert not event['timestamp_clamped']
    assert event['timestamp'] > event['received_at']


@pytest.mark.parametrize(
    ('address', 'policy', 'stored'),
    [
        ('203.0.113.77', IpAnonymization.TRUNCATE, '203.0.113.0'),
        ('2001:db8:85a3:1234::8a2e:370:7334', IpAnonymization.TRUNCATE, '2001:db8:85a3::'),
        ('203.0.113.77', IpAnonymization.NONE, '203.0.113.77'),
        ('203.0.113.77', IpAnonymization.DROP, None),
        ('not-an-ip', IpAnonymization.NONE, None),
    ],
)
def test_ip_anonymisation(address, policy, stored):
    assert anonymize_ip(address, policy) == stored


def test_caller_ip_is_anonymised_by_default():
    assert _enrich({}, source_ip='198.51.100.23')['user_ip'] == '198.51.100.0'


def test_user_agent_falls_back_to_the_header_and_is_parsed():
    event = _enrich({}, header_user_agent=CHROME_MAC)
    assert event['user_agent'] == CHROME_MAC
    assert (event['browser_family'], event['browser_version']) == ('Chrome', '120.0.0')
    assert (event['os_family'], event['os_version']) == ('Mac OS X', '10.15.7')
    assert event['device_family'] == 'Mac'
    assert not event['is_bot']


def test_body_user_agent_wins_over_the_header_and_bots_are_flagged():
    bot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
    event = _enrich({'user_agent': bot}, header_user_agent=CHROME_MAC)
    assert event['browser_family'] == 'Googlebot'
    assert event['is_bot']


def test_page_host_and_path_come_from_the_url():
    event = _enrich({'page_url': 'https://app.example.com:8443/docs/intro?x=1#top'})
    assert (event['page_host'], event['page_path']) == ('app.example.com', '/docs/intro')


def test_client_event_id_is_kept_and_missing_ids_are_generated():
    given = '6f1b2a64-8a0e-4a54-9d11-1b2a3c4d5e6f'
    assert _enrich({'event_id': given})['event_id'] == given
    assert UUID(_enrich({})['event_id']).version == 4


def test_user_object_fills_user_columns():
    event = _enrich(
        {'user': {'id': 'u7', 'realm': ['sso'], 'groups': ['g1', 'g2'], 'roles': ['admin'], 'username': 'ann'}}
    )
    assert (event['user_id'], event['user_realm'], event['user_groups'], event['user_roles'], event['username']) == (
        'u7',
        ['sso'],
        ['g1', 'g2'],
        ['admin'],
        'ann',
    )


def test_canonical_event_serialises_to_one_json_line():
    event = _enrich({'properties': {'text': 'line1\nline2'}})
    payload = to_json(event).decode()
    assert '\n' not in payload
    assert '"properties":"{\\"text\\":\\"line1\\\\nline2\\"}"' in payload


@pytest.mark.parametrize(
    ('url', 'host', 'path'),
    [
        ('http://[invalid/', None, None),  # an unclosed IPv6 bracket: urlsplit raises
        ('http://\uff03@example.com/', None, None),  # a netloc that NFKC-normalises to a delimiter: urlsplit raises
        ('http://example.com:99999/x', 'example.com', '/x'),  # a port out of range is never read
        ('not a url at all', None, 'not a url at all'),
    ],
)
def test_a_page_url_that_does_not_parse_is_kept_without_host_or_path(url, host, path):
    event = _enrich({'page_url': url})
    assert (event['page_url'], event['page_host'], event['page_path']) == (url, host, path)


@pytest.mark.parametrize('address', ['fe80::1%eth0/48', '1.2.3.4/24', '999.1.1.1', '', 'fe80::1%'])
def test_a_source_ip_that_does_not_parse_is_not_stored(address):
    assert _enrich({}, source_ip=address)['user_ip'] is None


def test_a_scoped_ipv6_address_is_truncated():
    assert _enrich({}, source_ip='fe80::1234:5678%eth0')['user_ip'] == 'fe80::'


def test_a_user_agent_the_parser_fails_on_leaves_the_agent_fields_empty(monkeypatch):
    # Given: the parser raises on this agent (any third-party failure on a client's text)
    import ua_parser

    def failing_parse(user_agent: str):
        raise RuntimeError('parser failure')

    monkeypatch.setattr(ua_parser, 'parse', failing_parse)
    agent = 'Mozilla/5.0 (a never parsed agent for this test)'

    # When
    event = _enrich({'user_agent': agent})

    # Then: the event is kept with its agent, unparsed
    assert event['user_agent'] == agent
    fields = ('browser_family', 'browser_version', 'os_family', 'os_version', 'device_family', 'is_bot')
    assert [event[name] for name in fields] == [None, None, None, None, None, False]
