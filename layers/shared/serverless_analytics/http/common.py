"""What every API family's HTTP side shares: the caller's principal in the resolver context, and the
API Gateway response for an answer given before routing (credential, size and shape checks)."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, content_types

from serverless_analytics.models.api_key import Principal

PRINCIPAL = 'principal'


def remember_principal(app: APIGatewayHttpResolver, principal: Principal) -> None:
    app.append_context(**{PRINCIPAL: principal})


def current_principal(app: APIGatewayHttpResolver) -> Principal:
    return app.context[PRINCIPAL]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A payload-format-2.0 response, for answers given before the resolver is involved."""
    return {
        'statusCode': int(status),
        'headers': {'Content-Type': content_types.APPLICATION_JSON, **(headers or {})},
        'body': json.dumps(body, separators=(',', ':')),
        'isBase64Encoded': False,
    }
