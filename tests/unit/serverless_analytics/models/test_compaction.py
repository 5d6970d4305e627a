import pydantic
import pytest

from serverless_analytics.models.compaction import CompactionRequest
from tests.conftest import load_event


def test_the_scheduled_event_selects_every_partition():
    request = CompactionRequest.model_validate(load_event('compact_lake'))

    assert request == CompactionRequest()
    assert request.includes('1', '2026-11-22') and request.includes('p2', '2020-01-01')


def test_a_request_by_hand_selects_its_project_and_days():
    request = CompactionRequest.model_validate(load_event('compact_lake_by_hand'))

    assert request.includes('1', '2026-11-21') and request.includes('1', '2026-11-22')
    assert not request.includes('1', '2026-11-20')
    assert not request.includes('2', '2026-11-22')


@pytest.mark.parametrize(
    'body',
    [
        {'project_id': ''},
        {'project_id': '1/dt=2026-11-22'},  # would reach into another listing
        {'dates': []},
        {'dates': ['2026-02-30']},
        {'dates': '2026-11-22'},
    ],
)
def test_wrong_requests_are_refused(body):
    with pytest.raises(pydantic.ValidationError):
        CompactionRequest.model_validate(body)
