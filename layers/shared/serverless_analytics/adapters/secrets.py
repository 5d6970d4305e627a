"""Secrets Manager: the token signing secret, read once per container."""

from functools import cache

from serverless_analytics.adapters.clients import answering_unavailable, client


@cache
def secret_string(secret_id: str) -> str:
    with answering_unavailable('Reading the token secret'):
        return client('secretsmanager').get_secret_value(SecretId=secret_id)['SecretString']
