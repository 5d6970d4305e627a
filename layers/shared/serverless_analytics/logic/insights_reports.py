"""The template, user-activity and user-latency answers for one project: SQL over the usage buckets and builds
(logic.insights_queries) through the deployment's query engine, users named from the user directory."""

from collections.abc import Callable
from functools import partial

from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.logic import insights_queries
from serverless_analytics.logic.query_engine import query_engine
from serverless_analytics.models.insights import (
    TemplateInsightsParams,
    TemplateInsightsResponse,
    UserActivityInsightsResponse,
    UserInsightsParams,
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
    return answer(
        query_engine(settings),
        project_id,
        params.start_time,
        params.end_time,
        params.template_ids,
        directory=partial(_directory, project_id, settings),
        timeout=settings.INSIGHTS_QUERY_TIMEOUT_SECONDS,
    )


def _directory(project_id: str, settings: Settings, user_ids: list[str]) -> dict[str, tuple[str, str]]:
    """The username and avatar of each listed user's latest event (the stream writer's directory), in one read."""
    entries = dynamodb.get_user_entries(settings.USERS_TABLE, project_id, user_ids)
    return {user_id: (entry.get('username') or '', entry.get('avatar_url') or '') for user_id, entry in entries.items()}
