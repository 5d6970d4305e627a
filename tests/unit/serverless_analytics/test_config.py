"""Settings fail fast: a resource setting the environment lacks is an error naming it, never an invented default."""

import pytest
from pydantic import ValidationError

from serverless_analytics.config import get_settings


@pytest.mark.parametrize('missing', ['EVENTS_STREAM_NAME', 'LAKE_BUCKET', 'ATHENA_WORKGROUP', 'TOKEN_SECRET_ARN'])
def test_a_missing_resource_setting_is_an_error_that_names_it(missing, monkeypatch):
    monkeypatch.delenv(missing)
    get_settings.cache_clear()

    with pytest.raises(ValidationError) as raised:
        get_settings()

    assert [error['loc'] for error in raised.value.errors()] == [(missing,)]
    assert raised.value.errors()[0]['type'] == 'missing'


def test_an_empty_resource_setting_is_refused(monkeypatch):
    monkeypatch.setenv('API_KEYS_TABLE', '')
    get_settings.cache_clear()

    with pytest.raises(ValidationError, match='API_KEYS_TABLE'):
        get_settings()
