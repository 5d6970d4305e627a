"""boto3 clients, made on first use (never at import time, so tests and the local stack can set endpoints first).

boto3 reads `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` itself, which is how the local stack points
the same code at moto.
"""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={'max_attempts': 3, 'mode': 'standard'}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests and the local stack call this after changing endpoints)."""
    client.cache_clear()
