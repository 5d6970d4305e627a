"""What an ingestion request says about where its events come from.

Apart from `http.api` so that the routes that take no events (health, stats) do not load the event models.
"""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from serverless_analytics import clock
from serverless_analytics.http.common import current_principal
from serverless_analytics.logic.enrich import RequestContext


def request_context(app: APIGatewayHttpResolver, client_id: str | None = None) -> RequestContext:
    """Where the current request's events come from: the key's project, the caller's IP and agent."""
    event = app.current_event
    return RequestContext(
        project_id=current_principal(app).project_id,
        received_at=clock.now(),
        source_ip=event.request_context.http.source_ip,
        header_user_agent=event.headers.get('user-agent'),
        client_id=client_id,
    )
