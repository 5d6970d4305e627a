"""The OpenAPI document of every HTTP route in `template.yaml`, generated from the handlers' own resolvers.

Each function's Powertools resolver describes its routes from their parameters and pydantic models; this merges
them into one document and replaces Powertools' generic 422 answer with the errors of the route's API family
(`ApiFamily.openapi_errors`). The result is committed in the layer, where the docs function serves it, and a test
fails when the committed document is not what this generates (`python -m local openapi` writes it anew).
"""

import importlib
import json
from pathlib import Path
from typing import Any

from local.environment import add_code_paths
from local.template import Template

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / 'layers/shared/serverless_analytics/http/openapi.json'
TITLE = 'Serverless product analytics'
VERSION = '1.0.0'
DESCRIPTION = (
    'Event ingestion, a Cube-compatible query API at GitLab and Cube paths, Coder-compatible insights and a Fluid '
    'Topics-style events export. '
    'Every route but health needs a project API key.'
)
SECURITY_SCHEMES = {
    'bearer': {'type': 'http', 'scheme': 'bearer', 'description': 'Authorization: Bearer <API key>'},
    'gitlabToken': {'type': 'apiKey', 'in': 'header', 'name': 'PRIVATE-TOKEN', 'description': "GitLab's header"},
    'coderToken': {'type': 'apiKey', 'in': 'header', 'name': 'Coder-Session-Token', 'description': "Coder's header"},
    'coderCookie': {
        'type': 'apiKey',
        'in': 'cookie',
        'name': 'coder_session_token',
        'description': "Coder's cookie (the insights routes)",
    },
    'coderQuery': {
        'type': 'apiKey',
        'in': 'query',
        'name': 'coder_session_token',
        'description': "Coder's query parameter (the insights routes)",
    },
}
OPEN_ROUTES = {('/api/v1/analytics/health', 'get'), ('/openapi.json', 'get'), ('/docs', 'get')}


def generate(template: Template | None = None) -> dict[str, Any]:
    template = template or Template.load()
    add_code_paths(template.layer_dirs)
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for spec in template.functions.values():
        if not spec.routes:
            continue
        module = importlib.import_module(spec.module)
        document = json.loads(module.app.get_openapi_json_schema(title=TITLE, version=VERSION))
        errors = module.api.openapi_errors()
        for path, operations in document.get('paths', {}).items():
            for method, operation in operations.items():
                paths.setdefault(path, {})[method] = _with_family(operation, errors, (path, method) in OPEN_ROUTES)
        schemas.update(document.get('components', {}).get('schemas', {}))
    if not _refers(paths, 'HTTPValidationError'):  # Powertools' generic 422, replaced by each family's errors
        schemas.pop('HTTPValidationError', None)
        schemas.pop('ValidationError', None)
    return {
        'openapi': '3.1.0',
        'info': {'title': TITLE, 'version': VERSION, 'description': DESCRIPTION},
        'paths': {path: dict(sorted(paths[path].items())) for path in sorted(paths)},
        'components': {'schemas': dict(sorted(schemas.items())), 'securitySchemes': SECURITY_SCHEMES},
    }


def _with_family(operation: dict[str, Any], errors: dict[str, Any], open_route: bool) -> dict[str, Any]:
    responses = {status: answer for status, answer in operation.get('responses', {}).items() if status != '422'}
    responses.update(errors)
    operation = {**operation, 'responses': dict(sorted(responses.items()))}
    if not open_route:
        operation['security'] = [{name: []} for name in SECURITY_SCHEMES]
    return operation


def _refers(paths: dict[str, Any], schema: str) -> bool:
    return f'#/components/schemas/{schema}' in json.dumps(paths)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=False) + '\n'


def write(path: Path = DOCUMENT_PATH) -> Path:
    path.write_text(render(generate()))
    return path
