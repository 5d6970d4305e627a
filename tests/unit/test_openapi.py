"""The OpenAPI document served at /openapi.json: what the handlers' routes and models generate, and exactly the
HTTP routes of template.yaml, so that neither can change without the other."""

import json

from local.openapi import DOCUMENT_PATH, generate
from local.template import Template

METHODS = {'get', 'post', 'put', 'patch', 'delete', 'head', 'options'}


def test_the_committed_document_is_what_the_handlers_generate():
    committed = json.loads(DOCUMENT_PATH.read_text())

    # If this fails after a change to a route or a model: `make openapi`, and review the document's diff.
    assert committed == generate()


def test_the_document_has_every_route_of_the_template_and_no_other():
    document = json.loads(DOCUMENT_PATH.read_text())
    documented = {
        (method.upper(), path) for path, item in document['paths'].items() for method in item if method in METHODS
    }

    routed = {(route.method, route.path) for route, _ in Template.load().http_routes}

    assert documented == routed


def test_every_route_but_the_open_ones_needs_a_credential():
    document = json.loads(DOCUMENT_PATH.read_text())
    open_routes = {
        (method, path)
        for path, item in document['paths'].items()
        for method, operation in item.items()
        if not operation.get('security')
    }

    assert open_routes == {('get', '/api/v1/analytics/health'), ('get', '/openapi.json'), ('get', '/docs')}
