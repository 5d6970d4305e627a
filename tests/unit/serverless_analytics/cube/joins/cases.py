"""Queries over the joined test model (model/), answered by Cube 1.7.43 in expected.json (regenerate.py)."""

DAY_RANGE = ['2024-04-01', '2024-04-10']
APRIL = ['2024-04-01', '2024-04-30']


def _rolling(measures, granularity, date_range, **extra) -> dict:
    td = {'dimension': 'Events.timestamp', 'granularity': granularity, 'dateRange': date_range}
    return {'measures': measures, 'timeDimensions': [td], **extra}


CASES: dict[str, dict] = {
    # many_to_one: Sessions' rows are multiplied by Events' (count → distinct keys, sum/avg → keys sub-query)
    'm2o_multiplied': {
        'measures': ['Events.count', 'Sessions.count', 'Sessions.avgEvents', 'Sessions.totalEvents'],
        'dimensions': ['Events.category'],
        'total': True,
    },
    'm2o_unaffected': {
        'measures': ['Sessions.minEvents', 'Sessions.maxEvents', 'Sessions.uniqueUsers', 'Events.count'],
        'dimensions': ['Events.name'],
    },
    'm2o_number_measure': {'measures': ['Sessions.eventsPerSession', 'Events.count'], 'dimensions': ['Events.browser']},
    'm2o_filtered_counts': {
        'measures': ['Sessions.longSessions', 'Events.pageViews'],
        'dimensions': ['Events.browser'],
    },
    'm2o_only_multiplied': {'measures': ['Sessions.totalEvents', 'Sessions.avgEvents'], 'dimensions': ['Events.name']},
    'm2o_no_dimensions': {'measures': ['Events.count', 'Sessions.totalEvents', 'Sessions.count']},
    # one_to_many from Sessions: the root's own rows are multiplied
    'o2m_multiplied': {
        'measures': ['Sessions.count', 'Sessions.totalEvents', 'Sessions.avgEvents', 'Events.count'],
        'dimensions': ['Sessions.browser'],
    },
    'o2m_no_dimensions': {'measures': ['Sessions.count', 'Sessions.totalEvents', 'Events.count']},
    'o2m_joined_dimension': {
        'measures': ['Sessions.totalEvents', 'Sessions.count'],
        'dimensions': ['Sessions.sizeBucket', 'Events.category'],
    },
    # one_to_one multiplies nothing
    'o2o': {
        'measures': ['Users.count', 'Users.avgSessions', 'UserBrowsers.count', 'UserBrowsers.totalEvents'],
        'dimensions': ['UserBrowsers.firstBrowser'],
    },
    'three_cubes': {
        'measures': ['Events.count', 'Sessions.count', 'Users.count', 'Users.totalSessions'],
        'dimensions': ['Sessions.browser'],
    },
    # filters, segments and measure filters on joined cubes
    'filter_on_joined_cube': {
        'measures': ['Events.count', 'Sessions.avgEvents'],
        'dimensions': ['Events.category'],
        'filters': [{'member': 'Sessions.browser', 'operator': 'equals', 'values': ['Chrome']}],
    },
    'filter_or_across_cubes': {
        'measures': ['Events.count', 'Sessions.count'],
        'dimensions': ['Events.name'],
        'filters': [
            {
                'or': [
                    {'member': 'Sessions.numberEvents', 'operator': 'gt', 'values': ['9']},
                    {'member': 'Events.category', 'operator': 'equals', 'values': ['auth']},
                ]
            }
        ],
    },
    'segment_on_joined_cube': {
        'measures': ['Events.count', 'Sessions.totalEvents'],
        'dimensions': ['Events.category'],
        'segments': ['Sessions.longOnes'],
    },
    'segment_and_belongs_to': {
        'measures': ['Users.count', 'Users.totalSessions', 'Events.uniqueUsers'],
        'dimensions': ['Events.category'],
        'segments': ['Events.knownUsers', 'Events.humans'],
    },
    'measure_filter_multiplied': {
        'measures': ['Events.count', 'Sessions.totalEvents'],
        'dimensions': ['Events.category'],
        'filters': [{'member': 'Sessions.totalEvents', 'operator': 'gt', 'values': ['640']}],
    },
    'measure_filter_not_selected': {
        'measures': ['Events.count'],
        'dimensions': ['Events.category'],
        'filters': [{'member': 'Sessions.avgEvents', 'operator': 'lt', 'values': ['8']}],
    },
    'date_range_on_joined_derived_cube': {
        'measures': ['Events.count', 'Sessions.totalEvents'],
        'timeDimensions': [{'dimension': 'Sessions.startAt', 'granularity': 'week', 'dateRange': APRIL}],
    },
    'date_range_with_distinct_sessions': {
        'measures': ['Events.count', 'Sessions.count'],
        'dimensions': ['Sessions.browser'],
        'timeDimensions': [{'dimension': 'Events.timestamp', 'dateRange': DAY_RANGE}],
    },
    'ordered_by_joined_measure': {
        'measures': ['Events.count', 'Sessions.avgEvents'],
        'dimensions': ['Events.category'],
        'order': {'Sessions.avgEvents': 'asc'},
        'limit': 3,
    },
    # case dimensions
    'case_dimensions': {'measures': ['Events.count'], 'dimensions': ['Events.categoryGroup', 'Sessions.sizeBucket']},
    'case_with_sql_labels': {
        'measures': ['Events.count'],
        'dimensions': ['Events.pageOrName'],
        'filters': [{'member': 'Events.categoryGroup', 'operator': 'equals', 'values': ['Views']}],
    },
    # views
    'view_prefix_and_alias': {
        'measures': ['Activity.count', 'Activity.Sessions_count', 'Activity.people_count'],
        'dimensions': ['Activity.people_userId'],
    },
    'view_multiplied': {
        'measures': ['Activity.Sessions_avgEvents', 'Activity.count'],
        'dimensions': ['Activity.category', 'Activity.Sessions_browser'],
    },
    'view_time_and_case': {
        'measures': ['Activity.count'],
        'dimensions': ['Activity.categoryGroup'],
        'timeDimensions': [{'dimension': 'Activity.Sessions_startAt', 'granularity': 'month'}],
    },
    'view_include_alias_title': {
        'measures': ['UserOverview.count', 'UserOverview.totalSessions'],
        'dimensions': ['UserOverview.browser'],
    },
    'view_rolling': _rolling([], 'day', DAY_RANGE)
    | {
        'measures': ['Activity.rollingCount7d'],
        'timeDimensions': [{'dimension': 'Activity.timestamp', 'granularity': 'day', 'dateRange': DAY_RANGE}],
    },
    'view_unknown_member': {'measures': ['Activity.nope']},
    'view_excluded_member': {'dimensions': ['Activity.people_sessions']},
    # rolling windows
    'rolling_trailing_day': _rolling(['Events.rollingCount7d', 'Events.count'], 'day', DAY_RANGE),
    'rolling_trailing_week': _rolling(['Events.rollingCount7d'], 'week', APRIL),
    'rolling_trailing_month_granularity': _rolling(['Events.rollingCount7d'], 'month', ['2024-03-01', '2024-05-31']),
    'rolling_leading_offset_start': _rolling(['Events.rollingCountLeading'], 'day', DAY_RANGE),
    'rolling_unbounded': _rolling(['Events.cumulativeCount'], 'month', ['2024-03-01', '2024-05-31']),
    'rolling_unbounded_leading': _rolling(['Events.rollingMaxPathLength'], 'day', DAY_RANGE),
    'rolling_count_distinct': _rolling(['Events.rollingUniqueUsers'], 'week', APRIL),
    'rolling_avg': _rolling(['Events.rollingAvgPathLength'], 'week', APRIL),
    'rolling_with_dimension': _rolling(['Events.rollingCount7d'], 'day', DAY_RANGE, dimensions=['Events.category']),
    'rolling_filtered': _rolling(
        ['Events.rollingPageViews', 'Events.pageViews'],
        'day',
        DAY_RANGE,
        filters=[{'member': 'Events.browser', 'operator': 'equals', 'values': ['Chrome']}],
        segments=['Events.humans'],
    ),
    'rolling_joined_dimension': _rolling(['Events.rollingCount7d'], 'week', APRIL, dimensions=['Sessions.browser']),
    'rolling_time_zone': _rolling(['Events.rollingCount7d', 'Events.count'], 'day', DAY_RANGE)
    | {'timezone': 'America/Los_Angeles'},
    'rolling_two_measures': _rolling(['Events.rollingCount7d', 'Events.cumulativeCount'], 'week', APRIL),
    'rolling_without_granularity': {
        'measures': ['Events.rollingCount7d', 'Events.count'],
        'timeDimensions': [{'dimension': 'Events.timestamp', 'dateRange': DAY_RANGE}],
    },
    'rolling_without_time_dimension': {'measures': ['Events.rollingCount7d'], 'dimensions': ['Events.category']},
    'rolling_without_date_range': {
        'measures': ['Events.rollingCount7d'],
        'timeDimensions': [{'dimension': 'Events.timestamp', 'granularity': 'day'}],
    },
    'rolling_two_granularities': {
        'measures': ['Events.rollingCount7d'],
        'timeDimensions': [
            {'dimension': 'Events.timestamp', 'granularity': 'day', 'dateRange': DAY_RANGE},
            {'dimension': 'Events.timestamp', 'granularity': 'week', 'dateRange': DAY_RANGE},
        ],
    },
    'rolling_measure_filter': _rolling(
        ['Events.rollingCount7d'],
        'day',
        DAY_RANGE,
        filters=[{'member': 'Events.rollingCount7d', 'operator': 'gt', 'values': ['100']}],
    ),
    'rolling_date_filter': {
        'measures': ['Events.rollingCount7d'],
        'filters': [{'member': 'Events.timestamp', 'operator': 'inDateRange', 'values': DAY_RANGE}],
    },
    'view_and_cube_mixed': {
        'measures': ['Activity.count', 'Sessions.totalEvents'],
        'dimensions': ['Activity.category'],
    },
    # (with a multiplied measure Cube 1.7 crosses the ungrouped rows of its sub-queries, a row per pair of rows
    # with equal dimensions; the product gives one row per joined row instead: docs/cube.md)
    'ungrouped_across_join': {
        'measures': ['Events.count'],
        'dimensions': ['Events.category', 'Sessions.sizeBucket', 'Sessions.browser', 'Sessions.numberEvents'],
        'filters': [{'member': 'Events.category', 'operator': 'equals', 'values': ['auth']}],
        'ungrouped': True,
    },
    # errors
    'no_join_path': {'measures': ['Events.count', 'Lonely.count']},
    'no_join_path_dimension': {'measures': ['Lonely.count'], 'dimensions': ['Users.userId']},
}
