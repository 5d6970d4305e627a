"""Create, revoke and check API keys.

Keys are stored as SHA-256 digests. A slow password hash (bcrypt, scrypt) is not needed here: generated
keys carry 256 random bits, so a leaked table cannot be brute-forced, and the check stays one hash per request.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

from serverless_analytics import clock
from serverless_analytics.adapters import dynamodb
from serverless_analytics.config import Settings
from serverless_analytics.models.api_key import ApiKeyRecord, Principal, Scope
from serverless_analytics.models.errors import ForbiddenError, InvalidCredentialError, NotAuthenticatedError

KEY_PREFIX = 'sa_'
CREDENTIAL_HEADERS = ('private-token', 'coder-session-token')
PLACEHOLDERS = ('undefined', 'null', 'bearer')


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The public id of a key: a prefix of its digest, safe to log and to pass to `revoke`."""
    return _digest(key)[:24]


def create_key(
    settings: Settings, project_id: str, scopes: Iterable[Scope], name: str = '', key: str | None = None
) -> tuple[str, ApiKeyRecord]:
    """Store a key (a new random one unless `key` is given) and return it with its record."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id=key_id_of(key),
        key_hash=_digest(key),
        project_id=project_id,
        scopes=sorted(set(scopes)),
        name=name,
        created_at=clock.now(),
    )
    dynamodb.put_item(settings.API_KEYS_TABLE, record.model_dump(mode='json', exclude_none=True))
    return key, record


def revoke_key(settings: Settings, key_id: str) -> bool:
    """Mark a key revoked; False when no such key exists."""
    return dynamodb.update_item(settings.API_KEYS_TABLE, {'key_id': key_id}, {'revoked_at': clock.now().isoformat()})


def list_keys(settings: Settings) -> list[ApiKeyRecord]:
    return [ApiKeyRecord.model_validate(item) for item in dynamodb.scan_items(settings.API_KEYS_TABLE)]


def credential_from_headers(headers: Mapping[str, str]) -> str | None:
    """In order: `Authorization: Bearer <key>`, GitLab's `PRIVATE-TOKEN`, Coder's `Coder-Session-Token`, then a
    bare `Authorization: <token>` as Cube's clients send it. GitLab's frontend sends `Authorization: undefined`
    beside its real credential, so a bare value never hides the other headers and placeholders are ignored."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    authorization = lowered.get('authorization', '')
    scheme, _, value = authorization.partition(' ')
    if scheme.lower() == 'bearer' and value.strip():
        return value.strip()
    named = next((lowered[name] for name in CREDENTIAL_HEADERS if lowered.get(name)), None)
    if named:
        return named
    if authorization and not value and authorization.lower() not in PLACEHOLDERS:
        return authorization
    return None


def authenticate(settings: Settings, headers: Mapping[str, str], scope: Scope) -> Principal:
    """The caller's principal; raises 401-type errors for no or bad credentials and 403 for a missing scope."""
    key = credential_from_headers(headers)
    if key is None:
        raise NotAuthenticatedError('Not authenticated')
    if not _looks_like_token(key):
        principal = _key_principal(settings, key)
    elif scope is Scope.READ:
        # Imported here: PyJWT and its crypto backend are ~60 ms of cold start that key-only routes never need.
        from serverless_analytics.logic.tokens import verify_token

        principal = verify_token(settings, key)
    else:
        raise InvalidCredentialError('Invalid API key')  # project tokens only ever grant reads
    if scope not in principal.scopes and Scope.ADMIN not in principal.scopes:
        raise ForbiddenError(f"API key lacks the '{scope}' scope")
    return principal


def _looks_like_token(credential: str) -> bool:
    """A JWT is three base64url parts, the first a JSON header (`eyJ...`); API keys never look like that."""
    return credential.startswith('eyJ') and credential.count('.') == 2


def _key_principal(settings: Settings, key: str) -> Principal:
    item = dynamodb.get_item(settings.API_KEYS_TABLE, {'key_id': key_id_of(key)})
    if item is None or item.get('revoked_at') or not hmac.compare_digest(item['key_hash'], _digest(key)):
        raise InvalidCredentialError('Invalid API key')
    record = ApiKeyRecord.model_validate(item)
    return Principal(key_id=record.key_id, project_id=record.project_id, scopes=frozenset(record.scopes))
