"""The API's own description: the OpenAPI document of every route (generated from the handlers' resolvers by
`python -m local openapi` and kept in the layer) and a Swagger UI page over it. Open routes, like health: the
document says what each route takes, never anything of a project's."""

import json
from functools import cache
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from serverless_analytics.config import Settings
from serverless_analytics.http.common import ApiFamily, json_answer
from serverless_analytics.models.api_key import Principal
from serverless_analytics.observability import logger


@cache
def openapi_text() -> str:
    return resources.files('serverless_analytics.http').joinpath('openapi.json').read_text()


def openapi_document() -> dict[str, Any]:
    return json.loads(openapi_text())


@cache
def swagger_page() -> str:
    """Swagger UI with its script and style inlined from Powertools' own copy: the page needs no CDN."""
    assets = Path(swagger_ui.__file__).parent
    spec = openapi_text().replace('</', '<\\/')  # the document is inlined in a <script>
    return generate_swagger_html(
        spec,
        (assets / 'swagger-ui-bundle.min.js').read_text(),
        (assets / 'swagger-ui.min.css').read_text(),
        swagger_base_url='',
        oauth2_config=None,
        persist_authorization=True,
    )


def html(page: str) -> Response:
    return Response(HTTPStatus.OK, content_types.TEXT_HTML, body=page)


class DocsApi(ApiFamily):
    """Answers like API Gateway itself (`{"message": ...}`): these routes belong to no product API."""

    name = 'Docs'

    def guard(self, event: dict[str, Any], settings: Settings) -> tuple[Principal | None, dict[str, Any]]:
        return None, event

    def error_response(self, error: Exception, event: dict[str, Any]) -> Response:
        if isinstance(error, ServiceError):
            return json_answer(error.status_code, {'message': error.msg})
        logger.exception('Unexpected error')
        return json_answer(HTTPStatus.INTERNAL_SERVER_ERROR, {'message': 'Internal Server Error'})
