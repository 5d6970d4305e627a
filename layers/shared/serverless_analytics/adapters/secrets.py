"""Secrets Manager: the token signing secret, read once per container."""

from functools import cache

from botocore.exceptions import BotoCoreError, ClientError

from serverless_analytics.adapters.clients import client
from serverless_analytics.models.errors import ServiceUnavailableError


@cache
def secret_string(secret_id: str) -> str:
    try:
        return client('secretsmanager').get_secret_value(SecretId=secret_id)['SecretString']
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailableError(f'Could not read secret: {type(error).__name__}') from error
