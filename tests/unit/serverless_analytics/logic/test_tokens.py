"""Project tokens live for TOKEN_TTL_SECONDS of `clock.now()` (not of the wall clock PyJWT would read)."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from serverless_analytics.config import get_settings
from serverless_analytics.logic import tokens
from serverless_analytics.models.api_key import Principal, Scope
from serverless_analytics.models.errors import InvalidCredentialError

ISSUED = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
PRINCIPAL = Principal(key_id='k1', project_id='7', scopes=frozenset({Scope.READ}))


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens.secrets, 'secret_string', lambda secret_id: 'a-test-signing-secret-of-32-bytes')


def _token(**claims) -> str:
    settings = get_settings()
    base = {'iat': ISSUED, 'exp': ISSUED + timedelta(seconds=60), 'iss': settings.TOKEN_ISSUER, 'project_id': '7'}
    return jwt.encode({**base, **claims}, 'a-test-signing-secret-of-32-bytes', algorithm=tokens.ALGORITHM)


def test_a_token_is_accepted_from_its_issue_until_just_before_it_expires(pinned_now):
    settings = get_settings()
    token = tokens.issue_token(settings, PRINCIPAL, now=ISSUED)
    ttl = timedelta(seconds=settings.TOKEN_TTL_SECONDS)

    for moment in (ISSUED, ISSUED + ttl - timedelta(seconds=1)):
        pinned_now(moment)
        assert tokens.verify_token(settings, token) == PRINCIPAL

    pinned_now(ISSUED + ttl)
    with pytest.raises(InvalidCredentialError, match='Invalid token'):
        tokens.verify_token(settings, token)


def test_a_token_issued_or_valid_only_after_now_is_refused(pinned_now):
    pinned_now(ISSUED - timedelta(seconds=1))

    for token in (_token(), _token(iat=ISSUED - timedelta(seconds=5), nbf=ISSUED)):
        with pytest.raises(InvalidCredentialError, match='Invalid token'):
            tokens.verify_token(get_settings(), token)


def test_times_that_are_not_numbers_are_refused(pinned_now):
    pinned_now(ISSUED)

    for claims in ({'exp': 'later'}, {'iat': 'then'}, {'nbf': [1]}):
        with pytest.raises(InvalidCredentialError, match='Invalid token'):
            tokens.verify_token(get_settings(), _token(**claims))


def test_the_lifetime_is_not_read_from_the_wall_clock(pinned_now):
    # Given: a token that expired long before the day this test runs, read at a time inside its lifetime
    pinned_now(ISSUED.replace(year=2001))
    token = _token(iat=ISSUED.replace(year=2001), exp=ISSUED.replace(year=2001) + timedelta(seconds=60))

    # Then it is accepted; and one issued in 2026 is not yet valid then
    assert tokens.verify_token(get_settings(), token).project_id == '7'
    with pytest.raises(InvalidCredentialError, match='Invalid token'):
        tokens.verify_token(get_settings(), _token())
