"""The export's request models: FT's date formats, its two spellings, and what a 400 names."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from local.environment import stack_settings
from serverless_analytics.models.export import (
    MAX_PAGE,
    CountEventsRequest,
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


@pytest.mark.parametrize(
    'text',
    [
        '0000-01-01',  # year 0
        '99999-01-01',
        '9999-12-31T24:00',
        '2026-13-01',
        '2026-00-10',
        '\u0662\u0660\u0662\u0666-01-01',  # Arabic-Indic digits: strptime would read 2026
        '2026-01-01\x00',
        '2026-01-01T10:15:30\n',
        '\ud800',
        'x' * 100_000,
        '',
    ],
)
def test_any_string_is_a_date_or_a_validation_error(text):
    with pytest.raises(ValidationError) as raised:
        EventsRequest.model_validate({'startDate': text})
    assert [error['loc'] for error in raised.value.errors()] == [('startDate',)]


def test_the_last_second_of_year_9999_is_a_date():
    assert parse_gmt('9999-12-31T23:59:59') == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


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


def test_unknown_top_level_fields_are_ignored_as_spring_does():
    request = EventsRequest.model_validate({'startDate': '2026-01-01', 'contentLocale': 'en-US'})
    assert request.start_date == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize('model', [EventsRequest, CountEventsRequest])
@pytest.mark.parametrize(
    ('filters', 'where'),
    [
        ({'names': ['a']}, ('filters', 'names')),
        ({'user': {'ids': ['u1']}}, ('filters', 'user', 'ids')),
        ({'name': ['a'], 'user': {'id': 'u1', 'groups': ['g']}}, ('filters', 'user', 'groups')),
    ],
)
def test_unknown_filters_are_refused_at_every_level_on_both_routes(model, filters, where):
    # Ignoring a misspelt filter would answer events the caller filtered out.
    body = {'startDate': '2026-01-01', 'endDate': '2026-02-01', 'groupByPeriod': 'day', 'filters': filters}

    with pytest.raises(ValidationError) as raised:
        model.model_validate(body)

    [error] = raised.value.errors(include_url=False)
    assert (error['type'], error['loc'], error['msg']) == ('extra_forbidden', where, 'Extra inputs are not permitted')


def test_counts_take_the_same_user_filter_as_events():
    body = {'startDate': '2026-01-01', 'endDate': '2026-02-01', 'groupByPeriod': 'day'}
    user = {'id': 'u1', 'realm': ['sso'], 'group': ['beta'], 'role': ['admin']}

    counts = CountEventsRequest.model_validate({**body, 'filters': {'user': user}})
    events = EventsRequest.model_validate({**body, 'filters': {'user': user}})

    assert counts.filters == events.filters
    assert counts.filters.user.model_dump() == {'id': ['u1'], 'realm': ['sso'], 'group': ['beta'], 'role': ['admin']}


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
        EventsRequest.model_validate({'startDate': '2026-01-01', 'paging': paging}, context=stack_settings())
    assert [error['loc'] for error in raised.value.errors()] == [problem]


def test_the_page_size_cap_is_the_given_settings():
    settings = stack_settings(EXPORT_MAX_PER_PAGE=5)
    body = {'startDate': '2026-01-01', 'paging': {'page': 1, 'perPage': 6}}

    with pytest.raises(ValidationError, match='must be between 1 and 5'):
        EventsRequest.model_validate(body, context=settings)
    largest = PagingRequest.largest_first(settings)
    assert largest == {'page': 1, 'perPage': 5}
    assert PagingRequest.model_validate(largest, context=settings).per_page == 5


def test_paging_validated_without_settings_is_capped_by_the_functions_own(monkeypatch):
    monkeypatch.setenv('EXPORT_MAX_PER_PAGE', '7')  # the autouse fixture refreshes the cached settings

    with pytest.raises(ValidationError, match='must be between 1 and 7'):
        EventsRequest.model_validate({'startDate': '2026-01-01', 'paging': {'page': 1, 'perPage': 8}})


@pytest.mark.parametrize('page', [10_000_001, 10**18])
def test_a_page_past_ten_million_is_refused_so_the_offset_fits(page):
    with pytest.raises(ValidationError) as raised:
        PagingRequest.model_validate({'page': page, 'perPage': 10}, context=stack_settings())

    [error] = raised.value.errors(include_url=False)
    assert (error['loc'], error['msg']) == (('page',), 'Input should be less than or equal to 10000000')


def test_the_largest_page_of_the_largest_size_has_an_offset_a_double_holds_exactly():
    paging = PagingRequest.model_validate(
        {'page': MAX_PAGE, 'perPage': 10_000}, context=stack_settings(EXPORT_MAX_PER_PAGE=10_000)
    )
    assert (paging.page - 1) * paging.per_page < 2**53


def test_counts_take_the_period_in_any_case_and_dedupe_names():
    request = CountEventsRequest.model_validate(
        {'startDate': '2026-01-01', 'endDate': '2026-02-01', 'groupByPeriod': 'Week', 'filters': {'name': ['a', 'a']}}
    )
    assert (request.group_by_period, request.filters.name) == (Period.WEEK, ['a'])


def test_a_long_value_is_quoted_cut_short():
    with pytest.raises(ValueError, match=r"got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\.\.\.$"):
        parse_gmt('x' * 100_000)
