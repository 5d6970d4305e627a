"""AWS clients, made on first use (never at import time, so tests and the local stack can set endpoints first).

botocore reads `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` itself, which is how the local stack points
the same code at moto. The session module is imported on first use too: it is ~250 ms of a cold start that
routes which never reach AWS (a 401, a 422) should not pay.
"""

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from serverless_analytics.models.errors import ServiceUnavailableError


def client(service: str, validated: bool = True) -> Any:
    """The service's client, made once; `validated=False`: one whose requests botocore does not check against the
    API model before sending, for requests built whole by an adapter from values of known types on a hot path (the
    service checks them all the same)."""
    return _client(service, validated)  # positional, so `client(s)` and `client(s, validated=True)` are one client


@cache
def _client(service: str, validated: bool) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={'max_attempts': 3, 'mode': 'standard'},
        connect_timeout=3,
        read_timeout=10,
        parameter_validation=validated,
    )
    return boto3.session.Session().client(service, config=config)


def reset_clients() -> None:
    """Forget cached clients (tests and the local stack call this after changing endpoints)."""
    _client.cache_clear()


@contextmanager
def answering_unavailable(what: str) -> Iterator[None]:
    """Turn an AWS failure inside the block into ServiceUnavailableError, which every API family answers."""
    from botocore.exceptions import BotoCoreError, ClientError  # loaded with the client, not at import

    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailableError(f'{what} failed: {error}') from error


def pause_before_retry(retry: int, base_seconds: float, cap_seconds: float = 1.0) -> None:
    """Sleep before the `retry`-th retry (1 for the first): exponential backoff with full jitter, so that writers
    throttled together do not all come back at the same moment (AWS's advice for its SDK retries)."""
    time.sleep(random.uniform(0, min(cap_seconds, base_seconds * 2 ** (retry - 1))))
