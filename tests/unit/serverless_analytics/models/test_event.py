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
