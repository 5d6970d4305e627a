import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from serverless_analytics.models.event import TrackBatchRequest, TrackEventRequest


def _errors(payload: dict, model=TrackEventRequest) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(payload)
    return raised.value.errors(include_url=False)


def test_seed_defaults_apply():
    # Given / When
    request = TrackEventRequest.model_validate({'event_name': 'signup'})

    # Then
    assert (request.category, request.priority, request.timestamp, request.offline) == (
        'user_action',
        'medium',
        None,
        False,
    )
    assert request.properties_json == '{}'


@pytest.mark.parametrize('name', ['', 'x' * 101])
def test_event_name_length_is_1_to_100(name):
    assert _errors({'event_name': name})[0]['loc'] == ('event_name',)


def test_event_name_of_100_chars_is_accepted():
    assert TrackEventRequest.model_validate({'event_name': 'x' * 100}).event_name == 'x' * 100


@pytest.mark.parametrize(('field', 'value'), [('category', 'clicks'), ('priority', 'urgent')])
def test_enumerated_fields_reject_unknown_values(field, value):
    assert _errors({'event_name': 'a', field: value})[0]['type'] == 'literal_error'


def test_timestamp_without_offset_is_rejected():
    assert _errors({'event_name': 'a', 'timestamp': '2026-01-01T10:00:00'})[0]['type'] == 'timezone_aware'


@pytest.mark.parametrize('stamp', ['2026-01-01T10:00:00Z', '2026-01-01T12:00:00+02:00', '2026-01-01T10:00:00.123456Z'])
def test_timestamp_with_z_or_offset_is_accepted(stamp):
    request = TrackEventRequest.model_validate({'event_name': 'a', 'timestamp': stamp})
    assert request.timestamp.utcoffset() is not None
    assert request.timestamp.isoformat().startswith('2026-01-01')


def test_properties_deeper_than_the_cap_are_rejected():
    deep = {'a': {'b': {'c': {'d': {'e': {'f': 1}}}}}}
    error = _errors({'event_name': 'a', 'properties': deep})[0]
    assert error['loc'] == ('properties',)
    assert 'nested at most 5 levels' in error['msg']


def test_properties_larger_than_the_cap_are_rejected():
    error = _errors({'event_name': 'a', 'properties': {'blob': 'x' * 17_000}})[0]
    assert error['loc'] == ('properties',)
    assert 'at most 16384 bytes' in error['msg']


def test_properties_are_kept_as_compact_json():
    request = TrackEventRequest.model_validate(
        {'event_name': 'a', 'properties': {'plan': 'pro', 'seats': 3, 'tags': ['é']}}
    )
    assert request.properties_json == '{"plan":"pro","seats":3,"tags":["é"]}'


def test_user_id_and_user_object_must_agree():
    error = _errors({'event_name': 'a', 'user_id': 'u1', 'user': {'id': 'u2'}})[0]
    assert 'user_id and user.id must be equal' in error['msg']


def test_user_id_and_user_object_may_repeat_the_same_id():
    request = TrackEventRequest.model_validate(
        {'event_name': 'a', 'user_id': 'u1', 'user': {'id': 'u1', 'roles': ['admin']}}
    )
    assert request.user.roles == ['admin']


def test_event_id_must_be_a_uuid():
    assert _errors({'event_name': 'a', 'event_id': 'not-a-uuid'})[0]['type'] == 'uuid_parsing'


@pytest.mark.parametrize('count', [0, 101])
def test_batch_holds_1_to_100_events(count):
    error = _errors({'events': [{'event_name': 'a'}] * count}, TrackBatchRequest)[0]
    assert error['loc'] == ('events',)


def test_batch_of_100_events_is_accepted():
    assert len(TrackBatchRequest.model_validate({'events': [{'event_name': 'a'}] * 100}).events) == 100


# --- time window: clock readings in [1970, 2100), event times from 2000 (models.event) ---

RECEIVED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _received_now(pinned_now):
    """A `sent_at` correction starts from the receive time: the clock, pinned."""
    pinned_now(RECEIVED)


def _time_errors(payload: dict) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        TrackEventRequest.model_validate({'event_name': 'a', **payload})
    return raised.value.errors(include_url=False)


@pytest.mark.parametrize(
    ('stamp', 'error'),
    [
        # the offset takes year 1 before year 1 in UTC, where datetime overflows
        ('0001-01-01T00:00:00+14:00', ('greater_than_equal', '1970-01-01T00:00:00Z')),
        (-(10**12), ('greater_than_equal', '1970-01-01T00:00:00Z')),  # a Unix number in ms: 1938
        ('1969-12-31T23:59:59Z', ('greater_than_equal', '1970-01-01T00:00:00Z')),
        ('9999-12-31T23:59:59-14:00', ('less_than', '2100-01-01T00:00:00Z')),
        ('2100-01-01T00:00:00Z', ('less_than', '2100-01-01T00:00:00Z')),
    ],
)
def test_a_timestamp_that_is_no_clock_reading_is_refused(stamp, error):
    [refused] = _time_errors({'timestamp': stamp})
    kind, bound = error
    operator = 'greater than or equal to' if kind == 'greater_than_equal' else 'less than'
    assert refused == {
        'type': kind,
        'loc': ('timestamp',),
        'msg': f'Input should be {operator} {bound}',
        'input': stamp,
        'ctx': {'ge' if kind == 'greater_than_equal' else 'lt': bound},
    }


@pytest.mark.parametrize(('stamp', 'seen'), [(123, '1970-01-01T00:02:03Z'), ('1999-12-31T23:59:59.999Z', None)])
def test_an_event_time_before_2000_is_refused(stamp, seen):
    [refused] = _time_errors({'timestamp': stamp})
    assert refused == {
        'type': 'greater_than_equal',
        'loc': ('timestamp',),
        'msg': f'Event time should be on or after 2000-01-01T00:00:00Z, got {seen or "1999-12-31T23:59:59.999000Z"}',
        'input': stamp,
        'ctx': {'ge': '2000-01-01T00:00:00Z', 'event_time': seen or '1999-12-31T23:59:59.999000Z'},
    }


def test_the_first_moment_of_2000_and_the_last_clock_reading_are_accepted():
    for stamp in ('2000-01-01T00:00:00Z', '2000-01-01T01:00:00+01:00', '2099-12-31T23:59:59.999Z'):
        request = TrackEventRequest.model_validate({'event_name': 'a', 'timestamp': stamp})
        assert request.timestamp == datetime.fromisoformat(stamp)


def test_a_sent_at_correction_that_would_overflow_is_refused_on_both_fields():
    assert [
        (e['loc'], e['type'])
        for e in _time_errors({'timestamp': '0001-01-01T00:00:00Z', 'sent_at': '9999-01-01T00:00:00Z'})
    ] == [
        (('sent_at',), 'less_than'),
        (('timestamp',), 'greater_than_equal'),
    ]


def test_a_corrected_event_time_before_2000_is_refused_on_the_timestamp():
    # Given: sent 30 years after the event, by the client's clock; received on 2026-11-22 at noon
    [refused] = _time_errors({'timestamp': '2000-06-01T00:00:00Z', 'sent_at': '2030-06-01T00:00:00Z'})

    assert refused == {
        'type': 'greater_than_equal',
        'loc': ('timestamp',),
        'msg': 'Event time should be on or after 2000-01-01T00:00:00Z, got 1996-11-22T12:00:00Z '
        '(the timestamp corrected for the client clock with sent_at)',
        'input': '2000-06-01T00:00:00Z',
        'ctx': {'ge': '2000-01-01T00:00:00Z', 'event_time': '1996-11-22T12:00:00Z'},
    }


def test_a_reset_clock_that_reads_1970_is_corrected_with_sent_at():
    request = TrackEventRequest.model_validate(
        {'event_name': 'a', 'timestamp': '1970-01-01T00:00:01Z', 'sent_at': '1970-01-01T00:00:06Z'}
    )
    assert request.sent_at - request.timestamp == timedelta(seconds=5)


def test_an_invalid_sent_at_is_the_only_error_not_a_second_one_on_the_timestamp():
    assert [(e['loc'], e['type']) for e in _time_errors({'timestamp': '1985-01-01T00:00:00Z', 'sent_at': 'soon'})] == [
        (('sent_at',), 'datetime_from_date_parsing')
    ]


# --- properties: finite numbers only, and every refusal is valid JSON ---


def _strict_json(value) -> str:
    return json.dumps(value, allow_nan=False)


@pytest.mark.parametrize(
    ('text', 'path', 'name', 'echo'),
    [
        ('{"x": NaN}', 'properties.x', 'NaN', {'x': 'NaN'}),
        ('{"a": [1, {"b": Infinity}]}', 'properties.a[1].b', 'Infinity', {'a': [1, {'b': 'Infinity'}]}),
        ('{"a": {"b": [-Infinity]}}', 'properties.a.b[0]', '-Infinity', {'a': {'b': ['-Infinity']}}),
        ('{"big": 1e400}', 'properties.big', 'Infinity', {'big': 'Infinity'}),  # parsed as infinity
    ],
)
def test_non_finite_numbers_are_refused_with_an_input_json_can_carry(text, path, name, echo):
    # Given: the body as Python's parser reads it (the HTTP layer validates a refused body again from it)
    payload = json.loads(f'{{"event_name": "a", "properties": {text}}}')

    [refused] = _errors(payload)

    assert refused == {
        'type': 'finite_number',
        'loc': ('properties',),
        'msg': f'properties should hold finite numbers only (JSON has no NaN or Infinity): {path} is {name}',
        'input': echo,
        'ctx': {'path': path, 'value': name},
    }
    _strict_json(refused)


def test_non_finite_numbers_are_refused_from_json_too():
    with pytest.raises(ValidationError, match='properties.x is NaN'):
        TrackEventRequest.model_validate_json('{"event_name": "a", "properties": {"x": NaN}}')


def test_the_words_nan_and_infinity_in_strings_are_kept():
    request = TrackEventRequest.model_validate_json('{"event_name": "a", "properties": {"NaN": "-Infinity"}}')
    assert request.properties_json == '{"NaN":"-Infinity"}'


def test_integers_beyond_double_precision_are_kept_as_written():
    big = 2**64 + 1
    request = TrackEventRequest.model_validate_json(f'{{"event_name": "a", "properties": {{"n": {big}}}}}')
    assert request.properties_json == f'{{"n":{big}}}'
    assert json.loads(request.properties_json) == {'n': big}


def test_properties_nested_10000_deep_get_the_depth_refusal_echoed_to_100_levels():
    deep: dict = {'leaf': 1}
    for _ in range(10_000):
        deep = {'a': deep}

    [refused] = _errors({'event_name': 'a', 'properties': deep})

    assert (refused['type'], refused['msg']) == (
        'value_error',
        'Value error, properties must be nested at most 5 levels deep',
    )
    echoed, levels = refused['input'], 0
    while isinstance(echoed, dict):
        echoed, levels = echoed['a'], levels + 1
    assert (levels, echoed) == (100, '...')
    _strict_json({**refused, 'ctx': {}})


def test_a_lone_surrogate_in_properties_is_refused_with_a_clear_message():
    [refused] = _errors(json.loads('{"event_name": "a", "properties": {"x": "\\ud800"}}'))
    assert refused['msg'] == 'Value error, properties must hold valid Unicode text (a lone surrogate cannot be stored)'


def test_a_refusal_in_a_batch_names_the_event():
    payload = json.loads('{"events": [{"event_name": "a"}, {"event_name": "b", "properties": {"x": NaN}}]}')
    [refused] = _errors(payload, TrackBatchRequest)
    assert (refused['loc'], refused['input']) == (('events', 1, 'properties'), {'x': 'NaN'})
