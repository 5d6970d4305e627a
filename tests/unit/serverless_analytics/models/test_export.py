"""The export's request models: FT's date formats, its two spellings, and what a 400 names."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from serverless_analytics.config import Settings
from serverless_analytics.models.export import (
    EventCountsRequest,
    EventsRequest,
    PagingRequest,
    Period,
    SortOrder,
    parse_gmt,
)


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('2026-03-01', datetime(2026, 3, 1, tzinfo=UTC)),
        ('2026-03-01T10:15', datetime(2026, 3, 1, 10, 15, tzinfo=UTC)),
        ('2026-03-01T10:15:30', datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)),
    ],
)
def test_the_three_gmt_formats_are_read(text, expected):
    assert parse_gmt(text) == expected


@pytest.mark.parametrize(
    'text', ['2026-3-1', '2026-03-01T10', '2026-03-01 10:15', '2026-03-01T10:15:30Z', '2026-03-01T10:15:30.5', 20260301]
)
def test_other_shapes_are_refused(text):
    with pytest.raises(ValueError, match='expected YYYY-MM-DD'):
        parse_gmt(text)


def test_impossible_dates_are_refused():
    with pytest.raises(ValueError, match="'2026-02-29' is not a valid date or time"):
        parse_gmt('2026-02-29')


@pytest.mark.parametrize('spelling', ['LatestFirst', 'latestFirst', 'LATESTFIRST', 'latestfirst'])
def test_sort_order_ignores_case(spelling):
    assert EventsRequest.model_validate({'startDate': '2026-01-01', 'sortOrder': spelling}).sort_order is (
        SortOrder.LATEST_FIRST
    )


def test_defaults_are_latest_first_without_paging_or_filters():
    request = EventsRequest.model_validate({'startDate': '2026-01-01'})
    assert (request.sort_order, request.paging, request.end_date) == (SortOrder.LATEST_FIRST, None, None)
    assert request.filters.name == request.filters.user.id == []


def test_user_id_is_a_string_or_a_list():
    one = EventsRequest.model_validate({'startDate': '2026-01-01', 'filters': {'user': {'id': 'u1'}}})
    many = EventsRequest.model_validate({'startDate': '2026-01-01', 'filters': {'user': {'id': ['u1', 'u2']}}})
    assert (one.filters.user.id, many.filters.user.id) == (['u1'], ['u1', 'u2'])


def test_unknown_fields_are_ignored_as_spring_does():
    request = EventsRequest.model_validate({'startDate': '2026-01-01', 'contentLocale': 'en-US', 'filters': {'x': 1}})
    assert request.start_date == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ('paging', 'problem'),
    [
        ({'page': 1}, ('paging', 'perPage')),
        ({'perPage': 1}, ('paging', 'page')),
        ({'page': 1, 'perPage': 0}, ('paging', 'perPage')),
        ({'page': 1, 'perPage': 1001}, ('paging', 'perPage')),
        ({'page': True, 'perPage': 10}, ('paging', 'page')),
        ({'page': 1.5, 'perPage': 10}, ('paging', 'page')),
    ],
)
def test_paging_needs_both_integers_within_bounds(paging, problem):
    with pytest.raises(ValidationError) as raised:
        EventsRequest.model_validate({'startDate': '2026-01-01', 'paging': paging}, context=Settings())
    assert [error['loc'] for error in raised.value.errors()] == [problem]


def test_the_page_size_cap_is_the_given_settings():
    settings = Settings(EXPORT_MAX_PER_PAGE=5)
    body = {'startDate': '2026-01-01', 'paging': {'page': 1, 'perPage': 6}}

    with pytest.raises(ValidationError, match='must be between 1 and 5'):
        EventsRequest.model_validate(body, context=settings)
    largest = PagingRequest.largest_first(settings)
    assert largest == {'page': 1, 'perPage': 5}
    assert PagingRequest.model_validate(largest, context=settings).per_page == 5


def test_paging_cannot_be_validated_without_the_settings_that_cap_it():
    with pytest.raises(TypeError, match='context'):
        EventsRequest.model_validate({'startDate': '2026-01-01', 'paging': {'page': 1, 'perPage': 20_000}})


def test_counts_take_the_period_in_any_case_and_dedupe_names():
    request = EventCountsRequest.model_validate(
        {'startDate': '2026-01-01', 'endDate': '2026-02-01', 'groupByPeriod': 'Week', 'filters': {'name': ['a', 'a']}}
    )
    assert (request.group_by_period, request.filters.name) == (Period.WEEK, ['a'])
