"""The insights answers written as Coder's Go structs are: field order, omitted fields, `[]` for empty lists, times
in the request's offset with `Z` for zero, floats as Go's encoder writes them. Expected JSON is written out by hand
from codersdk's struct tags and the spec's examples."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from serverless_analytics.models.insights import (
    CoderResponse,
    ConnectionLatency,
    DAUEntry,
    DAUsResponse,
    GetUserStatusCountsResponse,
    InsightsReportInterval,
    TemplateAppUsage,
    TemplateInsightsIntervalReport,
    TemplateInsightsParams,
    TemplateInsightsReport,
    TemplateInsightsResponse,
    TemplateInsightsSection,
    TemplateParameterUsage,
    UserActivity,
    UserActivityInsightsReport,
    UserActivityInsightsResponse,
    UserLatency,
    UserLatencyInsightsReport,
    UserLatencyInsightsResponse,
    UserStatusChangeCount,
    UserStatusCountsParams,
    go_rfc3339,
)

TEMPLATE = '152bbc74-88ec-4e74-993e-4efe64c8e56f'
USER = 'a169451c-8525-4352-b8ca-070dd449a1a5'
PLUS_TWO = timezone(timedelta(hours=2))
JULY_1 = datetime(2023, 7, 1, tzinfo=PLUS_TWO)
JULY_8 = datetime(2023, 7, 8, tzinfo=PLUS_TWO)


def _json(model: BaseModel) -> str:
    """The body as the resolver writes it: the model dumped in JSON mode, then compact JSON text."""
    return json.dumps(model.model_dump(mode='json'), separators=(',', ':'), ensure_ascii=False)


@pytest.mark.parametrize(
    ('value', 'text'),
    [
        (datetime(2023, 8, 1, tzinfo=UTC), '2023-08-01T00:00:00Z'),
        (datetime(2023, 8, 1, tzinfo=timezone(timedelta(0))), '2023-08-01T00:00:00Z'),  # sent as +00:00
        (datetime(2023, 8, 1, tzinfo=PLUS_TWO), '2023-08-01T00:00:00+02:00'),
        (datetime(2023, 8, 1, tzinfo=timezone(-timedelta(hours=5, minutes=30))), '2023-08-01T00:00:00-05:30'),
        (datetime(2023, 8, 1, 0, 0, 0, 500000, tzinfo=UTC), '2023-08-01T00:00:00.5Z'),
        (datetime(2023, 8, 1, 0, 0, 0, 123, tzinfo=UTC), '2023-08-01T00:00:00.000123Z'),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), '0999-01-02T03:04:05Z'),
        (datetime(2023, 8, 1), '2023-08-01T00:00:00Z'),  # naive: UTC
    ],
)
def test_times_are_written_as_go_marshals_a_time(value, text):
    assert go_rfc3339(value) == text


def _app(slug: str, template_ids: list[str], seconds: int = 0, times_used: int = 0) -> TemplateAppUsage:
    return TemplateAppUsage(
        template_ids=template_ids,
        type='builtin' if slug == 'vscode' else 'app',
        display_name=slug,
        slug=slug,
        icon=f'/icon/{slug}.svg',
        seconds=seconds,
        times_used=times_used,
    )


def test_the_template_answer_in_coders_order_with_the_requests_offset():
    parameter = TemplateParameterUsage(
        template_ids=[TEMPLATE],
        display_name='',
        name='region',
        type='string',
        description='Region',
        options=[{'name': 'Helsinki', 'description': '', 'value': 'eu-helsinki', 'icon': '/emojis/1f1eb-1f1ee.png'}],
        values=[{'value': 'eu-helsinki', 'count': 2}],
    )
    answer = TemplateInsightsResponse(
        report=TemplateInsightsReport(
            start_time=JULY_1,
            end_time=JULY_8,
            template_ids=[TEMPLATE],
            active_users=22,
            apps_usage=[_app('vscode', [], 80500), _app('code-server', [TEMPLATE], 7200, 3)],
            parameters_usage=[parameter],
        ),
        interval_reports=[
            TemplateInsightsIntervalReport(
                start_time=JULY_1, end_time=JULY_8, template_ids=[TEMPLATE], interval='week', active_users=14
            )
        ],
    )

    assert _json(answer) == (
        '{"report":{"start_time":"2023-07-01T00:00:00+02:00","end_time":"2023-07-08T00:00:00+02:00",'
        f'"template_ids":["{TEMPLATE}"],"active_users":22,"apps_usage":['
        '{"template_ids":[],"type":"builtin","display_name":"vscode","slug":"vscode","icon":"/icon/vscode.svg",'
        '"seconds":80500,"times_used":0},'
        f'{{"template_ids":["{TEMPLATE}"],"type":"app","display_name":"code-server","slug":"code-server",'
        '"icon":"/icon/code-server.svg","seconds":7200,"times_used":3}],'
        f'"parameters_usage":[{{"template_ids":["{TEMPLATE}"],"display_name":"","name":"region","type":"string",'
        '"description":"Region","options":[{"name":"Helsinki","description":"","value":"eu-helsinki",'
        '"icon":"/emojis/1f1eb-1f1ee.png"}],"values":[{"value":"eu-helsinki","count":2}]}]},'
        '"interval_reports":[{"start_time":"2023-07-01T00:00:00+02:00","end_time":"2023-07-08T00:00:00+02:00",'
        f'"template_ids":["{TEMPLATE}"],"interval":"week","active_users":14}}]}}'
    )


def test_a_template_answer_without_report_or_intervals_leaves_them_out():
    assert _json(TemplateInsightsResponse()) == '{}'
    assert _json(TemplateInsightsResponse(report=None, interval_reports=[])) == '{}'


def test_an_empty_report_has_empty_lists_never_null():
    report = TemplateInsightsReport(
        start_time=datetime(2023, 8, 1, tzinfo=timezone(timedelta(0))),
        end_time=datetime(2023, 8, 8, tzinfo=UTC),
        template_ids=None,
        active_users=0,
        apps_usage=None,
        parameters_usage=None,
    )

    assert _json(TemplateInsightsResponse(report=report)) == (
        '{"report":{"start_time":"2023-08-01T00:00:00Z","end_time":"2023-08-08T00:00:00Z","template_ids":[],'
        '"active_users":0,"apps_usage":[],"parameters_usage":[]}}'
    )


def test_a_parameter_without_options_leaves_them_out():
    parameter = TemplateParameterUsage(
        template_ids=[TEMPLATE], display_name='Size', name='size', type='number', description='', values=None
    )

    assert _json(parameter) == (
        f'{{"template_ids":["{TEMPLATE}"],"display_name":"Size","name":"size","type":"number","description":"",'
        '"values":[]}'
    )


def test_user_activity_in_coders_order():
    answer = UserActivityInsightsResponse(
        report=UserActivityInsightsReport(
            start_time=datetime(2023, 8, 1, tzinfo=UTC),
            end_time=datetime(2023, 8, 8, tzinfo=UTC),
            template_ids=[TEMPLATE],
            users=[
                UserActivity(
                    template_ids=[TEMPLATE], user_id=USER, username='alice', avatar_url='http://a', seconds=80500
                )
            ],
        )
    )

    assert _json(answer) == (
        '{"report":{"start_time":"2023-08-01T00:00:00Z","end_time":"2023-08-08T00:00:00Z",'
        f'"template_ids":["{TEMPLATE}"],"users":[{{"template_ids":["{TEMPLATE}"],"user_id":"{USER}",'
        '"username":"alice","avatar_url":"http://a","seconds":80500}]}}'
    )


def test_empty_user_activity_has_empty_lists():
    report = UserActivityInsightsReport(start_time=JULY_1, end_time=JULY_8, template_ids=[], users=[])

    assert _json(UserActivityInsightsResponse(report=report)) == (
        '{"report":{"start_time":"2023-07-01T00:00:00+02:00","end_time":"2023-07-08T00:00:00+02:00",'
        '"template_ids":[],"users":[]}}'
    )


def test_latencies_are_floats_as_given_and_whole_ones_as_go_writes_them():
    users = [
        UserLatency(
            template_ids=[TEMPLATE],
            user_id=USER,
            username='alice',
            avatar_url='',
            latency_ms=ConnectionLatency(p50=15.100000381469727, p95=119.832),
        ),
        UserLatency(
            template_ids=[], user_id=USER, username='bob', avatar_url='', latency_ms={'p50': -1.0, 'p95': 31.0}
        ),
    ]
    answer = UserLatencyInsightsResponse(
        report=UserLatencyInsightsReport(start_time=JULY_1, end_time=JULY_8, template_ids=[TEMPLATE], users=users)
    )

    assert _json(answer) == (
        '{"report":{"start_time":"2023-07-01T00:00:00+02:00","end_time":"2023-07-08T00:00:00+02:00",'
        f'"template_ids":["{TEMPLATE}"],"users":[{{"template_ids":["{TEMPLATE}"],"user_id":"{USER}",'
        '"username":"alice","avatar_url":"","latency_ms":{"p50":15.100000381469727,"p95":119.832}},'
        f'{{"template_ids":[],"user_id":"{USER}","username":"bob","avatar_url":"",'
        '"latency_ms":{"p50":-1,"p95":31}}]}}'
    )


def test_daus_are_dates_without_time_and_the_offset_echoed():
    answer = DAUsResponse(
        entries=[DAUEntry(date=date(2024, 3, 1), amount=3), DAUEntry(date=date(2024, 3, 2), amount=0)],
        tz_hour_offset=-2,
    )

    assert _json(answer) == (
        '{"entries":[{"date":"2024-03-01","amount":3},{"date":"2024-03-02","amount":0}],"tz_hour_offset":-2}'
    )
    assert _json(DAUsResponse(entries=None, tz_hour_offset=0)) == '{"entries":[],"tz_hour_offset":0}'


def test_status_counts_are_keyed_alphabetically_with_utc_dates():
    local_midnight = datetime(2024, 12, 2, tzinfo=PLUS_TWO)
    answer = GetUserStatusCountsResponse(
        status_counts={
            'suspended': [UserStatusChangeCount(date=local_midnight, count=1)],
            'active': [UserStatusChangeCount(date=local_midnight, count=41)],
            'dormant': [UserStatusChangeCount(date=local_midnight, count=0)],
        }
    )

    assert _json(answer) == (
        '{"status_counts":{"active":[{"date":"2024-12-01T22:00:00Z","count":41}],'
        '"dormant":[{"date":"2024-12-01T22:00:00Z","count":0}],'
        '"suspended":[{"date":"2024-12-01T22:00:00Z","count":1}]}}'
    )
    assert _json(GetUserStatusCountsResponse()) == '{"status_counts":{}}'


@pytest.mark.parametrize(
    ('body', 'text'),
    [
        ({'message': 'Forbidden.'}, '{"message":"Forbidden."}'),
        ({'message': 'm', 'detail': 'd'}, '{"message":"m","detail":"d"}'),
        (
            {'message': 'm', 'validations': [{'field': 'f', 'detail': 'd'}]},
            '{"message":"m","validations":[{"field":"f","detail":"d"}]}',
        ),
    ],
)
def test_coders_error_body_leaves_out_what_is_empty(body: dict[str, Any], text):
    assert _json(CoderResponse(**body)) == text


def test_the_template_request_says_which_sections_to_compute():
    times = {'start_time': JULY_1, 'end_time': JULY_8}

    assert TemplateInsightsParams(**times).wants_report
    assert not TemplateInsightsParams(**times).wants_interval_reports  # no interval
    week = TemplateInsightsParams(**times, interval=InsightsReportInterval.WEEK)
    assert week.wants_interval_reports and week.interval.days == 7
    only_intervals = TemplateInsightsParams(
        **times, interval='day', sections=[TemplateInsightsSection.INTERVAL_REPORTS]
    )
    assert (only_intervals.wants_report, only_intervals.wants_interval_reports) == (False, True)


@pytest.mark.parametrize(
    ('interval', 'step'),
    [(86400, 86400), (3600, 3600), (0, 86400), (-5, 86400), (2**32 + 60, 60), (2**31, 86400)],
)
def test_the_status_step_is_coders_int32_conversion_with_one_day_for_none(interval, step):
    assert UserStatusCountsParams(interval=interval).step_seconds == step
