"""The template, user-activity and user-latency answers for one project: SQL over the usage buckets and builds
(logic.insights_queries) through the deployment's query engine, users named from the user directory."""

from collections.abc import Callable, Sequence

from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.logic import insights_queries
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.insights import (
    TemplateInsightsParams,
    TemplateInsightsResponse,
    UserActivity,
    UserActivityInsightsResponse,
    UserInsightsParams,
    UserLatency,
    UserLatencyInsightsResponse,
)


def template_report(project_id: str, params: TemplateInsightsParams, settings: Settings) -> TemplateInsightsResponse:
    return insights_queries.template_insights(
        query_engine(settings),
        project_id,
        params.start_time,
        params.end_time,
        params.template_ids,
        params.interval,
        params.sections,
        timeout=settings.INSIGHTS_QUERY_TIMEOUT_SECONDS,
    )


def activity_report(project_id: str, params: UserInsightsParams, settings: Settings) -> UserActivityInsightsResponse:
    return _user_report(insights_queries.user_activity, project_id, params, settings)


def latency_report(project_id: str, params: UserInsightsParams, settings: Settings) -> UserLatencyInsightsResponse:
    return _user_report(insights_queries.user_latency, project_id, params, settings)


def _user_report[Report: (UserActivityInsightsResponse, UserLatencyInsightsResponse)](
    answer: Callable[..., Report], project_id: str, params: UserInsightsParams, settings: Settings
) -> Report:
    """One of the per-user answers, its users named from the directory."""
    response = answer(
        query_engine(settings),
        project_id,
        params.start_time,
        params.end_time,
        params.template_ids,
        timeout=settings.INSIGHTS_QUERY_TIMEOUT_SECONDS,
    )
    response.report.users = _named(response.report.users, project_id, settings)
    return response


def _named[User: (UserActivity, UserLatency)](users: Sequence[User], project_id: str, settings: Settings) -> list[User]:
    """Each user with the username and avatar of its latest event (the stream writer's directory); one batched
    read for the page's users."""
    entries = dynamodb.get_user_entries(settings.USERS_TABLE, project_id, [user.user_id for user in users])
    return [_with_entry(user, entries.get(user.user_id)) for user in users]


def _with_entry[User: (UserActivity, UserLatency)](user: User, entry: dict | None) -> User:
    if entry is None:
        return user
    return user.model_copy(
        update={'username': entry.get('username') or '', 'avatar_url': entry.get('avatar_url') or ''}
    )
