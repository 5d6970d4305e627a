"""GitLab's zero-filled days: as GitLab's proxy fills them within the query's limit, never past it."""

from serverless_analytics.logic.gitlab import fill_date_gaps

DAY = 'TrackedEvents.derivedTstamp'


def _query(first: str, last: str, **extra) -> dict:
    date_filter = {'member': DAY, 'operator': 'inDateRange', 'values': [first, last]}
    return {'measures': ['TrackedEvents.count'], 'filters': [date_filter], **extra}


def _row(day: str, count: str) -> dict:
    stamp = f'{day}T00:00:00.000'
    return {f'{DAY}.day': stamp, DAY: stamp, 'TrackedEvents.count': count}


def _body(rows: list[dict], limit: int = 10_000) -> dict:
    return {'results': [{'query': {'limit': limit}, 'data': rows}]}


def test_missing_days_are_appended_with_zero_as_gitlab_does():
    body = fill_date_gaps(_query('2024-05-01', '2024-05-04'), _body([_row('2024-05-02', '7')]))

    assert body['results'][0]['data'] == [
        _row('2024-05-02', '7'),
        _row('2024-05-01', '0'),
        _row('2024-05-03', '0'),
        _row('2024-05-04', '0'),
    ]


def test_a_range_longer_than_the_limit_is_filled_up_to_the_limit_only():
    query = _query('1000-01-01', '2026-12-31', limit=100)

    data = fill_date_gaps(query, _body([_row('2024-05-02', '7')], limit=100))['results'][0]['data']

    assert len(data) == 100
    assert data[:3] == [_row('2024-05-02', '7'), _row('1000-01-01', '0'), _row('1000-01-02', '0')]
    assert data[-1] == _row('1000-04-09', '0')


def test_a_full_result_gets_no_zeros():
    rows = [_row('2024-05-02', '7'), _row('2024-05-03', '1')]
    assert fill_date_gaps(_query('2024-05-01', '2024-05-31'), _body(rows, limit=2))['results'][0]['data'] == rows


def test_the_default_limit_bounds_a_result_without_one():
    body = {'results': [{'query': {}, 'data': [_row('2024-05-02', '7')]}]}
    assert len(fill_date_gaps(_query('0001-01-01', '9999-12-31'), body)['results'][0]['data']) == 10_000


def test_years_before_1000_keep_four_digits():
    data = fill_date_gaps(_query('0999-12-31', '1000-01-01'), _body([_row('0999-12-31', '1')]))['results'][0]['data']
    assert data[-1] == _row('1000-01-01', '0')
    assert len(data) == 2


def test_rows_without_the_day_key_and_filters_without_two_dates_are_left_alone():
    by_month = [{f'{DAY}.month': '2024-05-01T00:00:00.000', 'TrackedEvents.count': '1'}]
    assert fill_date_gaps(_query('2024-05-01', '2024-05-31'), _body(by_month))['results'][0]['data'] == by_month

    for values in ([None, '2024-05-03'], ['last 7 days'], ['2024-05-01', 20240503], ['2024-13-45', '2024-05-03']):
        query = _query('2024-05-01', '2024-05-03')
        query['filters'][0]['values'] = values
        rows = [_row('2024-05-02', '7')]
        assert fill_date_gaps(query, _body(rows))['results'][0]['data'] == [_row('2024-05-02', '7')]
