"""What an error answer of each API family looks like, by the path it answers on (DESIGN §1)."""

from typing import Any

GATEWAY_ANSWERS = {'Not Found', 'Bad Request', 'Request Entity Too Large', 'Request Header Fields Too Large'}


def family_of(path: str) -> str:
    if path.startswith('/api/v1/analytics'):
        return 'ingestion'
    if path.startswith('/cubejs-api/'):
        return 'cube'
    if path.startswith('/projects/'):
        return 'gitlab'
    if path.startswith('/analytics/api/v1/'):
        return 'export'
    if path.startswith('/api/v2/'):
        return 'insights'
    return 'docs'


def is_family_error(path: str, body: Any) -> bool:
    """True when `body` is an error in the shape of the family that answers `path` (or API Gateway's own, for a
    request the gateway refuses before any function sees it)."""
    if not isinstance(body, dict):
        return False
    if set(body) == {'message'} and body['message'] in GATEWAY_ANSWERS:
        return True
    match family_of(path):
        case 'ingestion':
            return set(body) == {'detail'} and isinstance(body['detail'], str | list)
        case 'cube':
            return 'error' in body and isinstance(body['error'], str) and set(body) <= {'error', 'type'}
        case 'gitlab':
            return set(body) == {'message'} and isinstance(body['message'], str)
        case 'export':
            error = body.get('error')
            return set(body) == {'error'} and isinstance(error, dict) and set(error) == {'code', 'message'}
        case 'insights':  # Coder's codersdk.Response
            return isinstance(body.get('message'), str) and set(body) <= {'message', 'detail', 'validations'}
        case _:
            return set(body) == {'message'}
