"""The product's answer to a case, as a client of Cube's paths sees it: `load(..., query_type='multi')` for a
success, and for an error the status and body of the query API's one error mapping (`QueryApi.error_response`)."""

import copy
import json
from datetime import datetime

from serverless_analytics.cube import load
from serverless_analytics.engines import QueryEngine
from serverless_analytics.http.query_api import QueryApi
from tests.cube_parity.cases import Case
from tests.cube_parity.compare import Answer, product_answer, product_error
from tests.cube_parity.lake import PROJECT

# Cube's own path: errors are Cube's `{"error": ...}` there (GitLab's proxy paths answer `{"message": ...}`).
CUBE_LOAD_EVENT = {'rawPath': '/cubejs-api/v1/load', 'requestContext': {'http': {'method': 'POST'}}}
_API = QueryApi()


def parse_now(text: str) -> datetime:
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def ask_product(case: Case, engine: QueryEngine) -> Answer:
    try:
        body = load(copy.deepcopy(case.query), PROJECT, engine, now=parse_now(case.now), query_type='multi')
    except Exception as error:  # noqa: BLE001 - every error is answered by the API's error mapping, as in the handler
        response = _API.error_response(error, CUBE_LOAD_EVENT)
        answer = response.body if isinstance(response.body, dict) else json.loads(response.body or '{}')
        return product_error(response.status_code, answer)
    return product_answer(json.loads(json.dumps(body)))  # through JSON, as the wire carries it
