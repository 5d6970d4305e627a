"""Short-lived signed tokens scoped to one project (`include_token`), shaped like GitLab's Cube JWT.

HS256 with the stack's signing secret; claims as GitLab signs them for Cube (`iat`, `exp`, `iss`,
`appId: gitlab_project_<id>`) plus the project and scopes, so the read endpoints accept them like a key.
"""

from datetime import datetime, timedelta
from typing import Any

import jwt

from serverless_analytics import clock
from serverless_analytics.adapters import secrets
from serverless_analytics.config import Settings
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.errors import InvalidCredentialError

ALGORITHM = 'HS256'
APP_ID_PREFIX = 'gitlab_project_'


def issue_token(settings: Settings, principal: Principal, now: datetime | None = None) -> str:
    now = now or clock.now()
    claims = {
        'iat': now,
        'exp': now + timedelta(seconds=settings.TOKEN_TTL_SECONDS),
        'iss': settings.TOKEN_ISSUER,
        'appId': f'{APP_ID_PREFIX}{principal.project_id}',
        'project_id': principal.project_id,
        'scopes': [Scope.READ.value],
        'kid': principal.key_id,
    }
    return jwt.encode(claims, secrets.secret_string(settings.TOKEN_SECRET_ARN), algorithm=ALGORITHM)


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secrets.secret_string(settings.TOKEN_SECRET_ARN),
            algorithms=[ALGORITHM],
            issuer=settings.TOKEN_ISSUER,
            # PyJWT would read the wall clock for these three: they are checked against `clock.now()` below
            options={
                'require': ['exp', 'iat', 'iss', 'project_id'],
                'verify_exp': False,
                'verify_iat': False,
                'verify_nbf': False,
            },
        )
        _check_lifetime(claims, clock.now().timestamp())
    except jwt.PyJWTError as error:
        raise InvalidCredentialError('Invalid token') from error
    return Principal(
        key_id=str(claims.get('kid', 'token')),
        project_id=str(claims['project_id']),
        scopes=frozenset(claims.get('scopes', [])),
    )


def _check_lifetime(claims: dict[str, Any], now: float) -> None:
    """PyJWT's `exp`, `iat` and `nbf` checks (no leeway) at `now`."""
    try:
        expires, issued = int(claims['exp']), int(claims['iat'])
        not_before = int(claims.get('nbf', issued))
    except (ValueError, TypeError, OverflowError) as error:
        raise jwt.InvalidTokenError('exp, iat and nbf must be integers') from error
    if expires <= now:
        raise jwt.ExpiredSignatureError('Signature has expired')
    if issued > now or not_before > now:
        raise jwt.ImmatureSignatureError('The token is not yet valid')
