"""The DAU routes against moto: generated Coder telemetry ingested through the real handlers, rolled up by the
real rollup, answered from the aggregates, compared with the independent reference; and Coder's refusals."""

import json
from datetime import UTC, datetime

import pytest

from functions.get_daus.app import lambda_handler as daus_handler
from functions.get_template_daus.app import lambda_handler as template_daus_handler
from local.coder_telemetry import generate
from tests.conftest import load_event
from tests.insights_reference import reference
from tests.integration.conftest import invoke

START = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.fixture(scope='module')
def telemetry():
    return generate(seed=7, start=START, days=4, users=6, templates=3)


def _daus(query: str, template: str | None = None, **headers: str) -> dict:
    event = load_event('get_template_daus' if template else 'get_daus')
    event['rawQueryString'] = query
    event['headers'] = {k: v for k, v in {**event['headers'], **headers}.items() if v is not None}
    if template:
        event['rawPath'] = f'/api/v2/templates/{template}/daus'
        event['requestContext']['http']['path'] = event['rawPath']
        event['pathParameters'] = {'template': template}
    return event


@pytest.mark.parametrize('tz_offset', [0, -2, 5])
def test_deployment_daus_equal_the_reference(rolled_up, telemetry, lambda_context, tz_offset):
    status, body = invoke(daus_handler, _daus(f'tz_offset={tz_offset}'), lambda_context)

    expected = reference.daus(reference.usage_buckets(telemetry.events), rolled_up, tz_offset=tz_offset)
    assert status == 200
    assert body == expected
    assert sum(entry['amount'] for entry in body['entries']) > 0


@pytest.mark.parametrize('zone', ['Europe/Paris', 'Asia/Kolkata', 'America/Los_Angeles'])
def test_an_iana_timezone_gives_true_local_days_equal_to_the_reference(rolled_up, telemetry, lambda_context, zone):
    status, body = invoke(daus_handler, _daus(f'timezone={zone}'), lambda_context)

    expected = reference.daus(reference.usage_buckets(telemetry.events), rolled_up, timezone=zone)
    assert (status, body) == (200, expected)

    template_id = telemetry.template_ids[0]
    status, body = invoke(template_daus_handler, _daus(f'timezone={zone}', template_id), lambda_context)
    expected = reference.daus(
        reference.usage_buckets(telemetry.events), rolled_up, timezone=zone, template_ids=[template_id]
    )
    assert (status, body) == (200, expected)


def test_each_templates_daus_equal_the_reference(rolled_up, telemetry, lambda_context):
    buckets = reference.usage_buckets(telemetry.events)
    for template_id in telemetry.template_ids:
        status, body = invoke(template_daus_handler, _daus('', template_id), lambda_context)

        assert (status, body) == (200, reference.daus(buckets, rolled_up, template_ids=[template_id]))


@pytest.mark.parametrize(
    ('query', 'expected'),
    [
        (
            'tz_offset=5.5',
            {
                'message': 'Query parameters have invalid values.',
                'validations': [
                    {
                        'field': 'tz_offset',
                        'detail': 'Query param "tz_offset" must be a valid integer: strconv.Atoi: parsing "5.5": invalid syntax',
                    }
                ],
            },
        ),
        (
            'nope=1',
            {
                'message': 'Query parameters have invalid values.',
                'validations': [{'field': 'nope', 'detail': '"nope" is not a valid query param'}],
            },
        ),
    ],
)
def test_coders_refusals(aws, lambda_context, query, expected):
    assert invoke(daus_handler, _daus(query), lambda_context) == (400, expected)


def test_a_template_that_is_no_uuid_and_a_missing_credential(aws, lambda_context):
    status, body = invoke(template_daus_handler, _daus('', 'not-a-uuid'), lambda_context)
    assert (status, body['message']) == (400, 'Invalid UUID "template".')

    status, body = invoke(daus_handler, _daus('', **{'coder-session-token': None}), lambda_context)
    assert status == 401
    assert body['message'].startswith('You are signed out or your session has expired.')


def test_the_answer_reads_no_event(rolled_up, aws, lambda_context):
    aws.client('s3').delete_objects(
        Bucket=aws.name('LakeBucket'),
        Delete={
            'Objects': [
                {'Key': item['Key']}
                for item in aws.client('s3').list_objects_v2(Bucket=aws.name('LakeBucket'), Prefix='events/')[
                    'Contents'
                ]
            ]
        },
    )

    status, body = invoke(daus_handler, _daus(''), lambda_context)

    assert status == 200
    assert sum(entry['amount'] for entry in body['entries']) > 0
    assert json.dumps(body)
