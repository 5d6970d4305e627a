"""Create the template's stateful resources on the local AWS endpoint (idempotent: existing ones are kept)."""

import json
import logging
import secrets
import string
from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from local.environment import local_client
from local.template import Template

_LOG = logging.getLogger('local.provision')
ALREADY_EXISTS = {
    'ResourceInUseException',
    'BucketAlreadyOwnedByYou',
    'BucketAlreadyExists',
    'AlreadyExistsException',
    'ResourceAlreadyExistsException',
}


def _idempotent(create: Callable[[], Any]) -> bool:
    """Run a create call; False when the resource was there already."""
    try:
        create()
    except ClientError as error:
        code = error.response['Error']['Code']
        message = error.response['Error'].get('Message', '')
        if code in ALREADY_EXISTS or 'already' in message.lower():
            return False
        raise
    return True


class Provisioner:
    def __init__(self, template: Template, endpoint: str, region: str = 'us-east-1') -> None:
        self.template = template
        self._client = lambda service: local_client(service, endpoint, region)

    def provision(self) -> None:
        self.streams()
        self.tables()
        self.buckets()
        self.glue()
        self.athena()
        self.secrets()
        self.log_groups()

    def streams(self) -> None:
        kinesis = self._client('kinesis')
        for logical_id, properties in self.template.resources_of_type('AWS::Kinesis::Stream').items():
            name = self.template.physical_name(logical_id)
            mode = properties.get('StreamModeDetails') or {'StreamMode': 'PROVISIONED'}
            arguments: dict[str, Any] = {'StreamName': name, 'StreamModeDetails': mode}
            if mode['StreamMode'] == 'PROVISIONED':
                arguments['ShardCount'] = int(properties.get('ShardCount', 1))
            if _idempotent(partial(kinesis.create_stream, **arguments)):
                kinesis.get_waiter('stream_exists').wait(StreamName=name, WaiterConfig={'Delay': 0.2})
                self._stream_settings(kinesis, name, properties)

    @staticmethod
    def _stream_settings(kinesis: Any, name: str, properties: dict[str, Any]) -> None:
        hours = int(properties.get('RetentionPeriodHours', 24))
        if hours > 24:
            kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=hours)
        encryption = properties.get('StreamEncryption')
        if encryption:
            kinesis.start_stream_encryption(
                StreamName=name, EncryptionType=encryption['EncryptionType'], KeyId=encryption['KeyId']
            )

    def tables(self) -> None:
        dynamodb = self._client('dynamodb')
        for logical_id, properties in self.template.resources_of_type('AWS::DynamoDB::Table').items():
            name = self.template.physical_name(logical_id)
            arguments = {
                'TableName': name,
                'KeySchema': properties['KeySchema'],
                'AttributeDefinitions': properties['AttributeDefinitions'],
                'BillingMode': properties.get('BillingMode', 'PROVISIONED'),
                **{
                    key: properties[key]
                    for key in ('GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'ProvisionedThroughput')
                    if key in properties
                },
            }
            if properties.get('StreamSpecification'):
                arguments['StreamSpecification'] = {'StreamEnabled': True, **properties['StreamSpecification']}
            if _idempotent(partial(dynamodb.create_table, **arguments)):
                dynamodb.get_waiter('table_exists').wait(TableName=name, WaiterConfig={'Delay': 0.2})
            ttl = properties.get('TimeToLiveSpecification')
            if ttl and ttl.get('Enabled'):
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={'Enabled': True, 'AttributeName': ttl['AttributeName']}
                )

    def buckets(self) -> None:
        s3 = self._client('s3')
        for logical_id, properties in self.template.resources_of_type('AWS::S3::Bucket').items():
            name = self.template.physical_name(logical_id)
            _idempotent(partial(s3.create_bucket, Bucket=name))
            self._bucket_settings(s3, name, properties)

    @staticmethod
    def _bucket_settings(s3: Any, name: str, properties: dict[str, Any]) -> None:
        if 'BucketEncryption' in properties:
            rules = [
                _encryption_rule(rule) for rule in properties['BucketEncryption']['ServerSideEncryptionConfiguration']
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={'Rules': rules})
        if 'PublicAccessBlockConfiguration' in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties['PublicAccessBlockConfiguration']
            )
        if 'OwnershipControls' in properties:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=properties['OwnershipControls'])
        if 'LifecycleConfiguration' in properties:
            rules = [_lifecycle_rule(rule) for rule in properties['LifecycleConfiguration']['Rules']]
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={'Rules': rules})

    def glue(self) -> None:
        glue = self._client('glue')
        for properties in self.template.resources_of_type('AWS::Glue::Database').values():
            _idempotent(partial(glue.create_database, DatabaseInput=properties['DatabaseInput']))
        for properties in self.template.resources_of_type('AWS::Glue::Table').values():
            table = {'DatabaseName': properties['DatabaseName'], 'TableInput': properties['TableInput']}
            if not _idempotent(partial(glue.create_table, **table)):
                glue.update_table(**table)

    def athena(self) -> None:
        athena = self._client('athena')
        existing = {group['Name'] for group in athena.list_work_groups()['WorkGroups']}
        for properties in self.template.resources_of_type('AWS::Athena::WorkGroup').values():
            if properties['Name'] in existing:
                continue
            configuration = dict(properties.get('WorkGroupConfiguration') or {})
            athena.create_work_group(
                Name=properties['Name'],
                Description=properties.get('Description', ''),
                Configuration=configuration,
            )

    def secrets(self) -> None:
        manager = self._client('secretsmanager')
        for logical_id, properties in self.template.resources_of_type('AWS::SecretsManager::Secret').items():
            value = properties.get('SecretString') or _generated_secret(properties.get('GenerateSecretString') or {})
            name = self.template.physical_name(logical_id)
            _idempotent(partial(manager.create_secret, Name=name, SecretString=value))

    def log_groups(self) -> None:
        logs = self._client('logs')
        for logical_id, properties in self.template.resources_of_type('AWS::Logs::LogGroup').items():
            name = self.template.physical_name(logical_id)
            _idempotent(partial(logs.create_log_group, logGroupName=name))
            if 'RetentionInDays' in properties:
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(properties['RetentionInDays']))


def _generated_secret(spec: dict[str, Any]) -> str:
    """A value like CloudFormation's GenerateSecretString makes (the options templates commonly use)."""
    alphabet = string.ascii_letters + string.digits
    if not spec.get('ExcludePunctuation'):
        alphabet += string.punctuation
    alphabet = ''.join(c for c in alphabet if c not in spec.get('ExcludeCharacters', ''))
    password = ''.join(secrets.choice(alphabet) for _ in range(int(spec.get('PasswordLength', 32))))
    if 'SecretStringTemplate' in spec:
        return json.dumps({**json.loads(spec['SecretStringTemplate']), spec['GenerateStringKey']: password})
    return password


def _encryption_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's encryption rule shape to the S3 API's."""
    converted = {key: value for key, value in rule.items() if key != 'ServerSideEncryptionByDefault'}
    if 'ServerSideEncryptionByDefault' in rule:
        converted['ApplyServerSideEncryptionByDefault'] = rule['ServerSideEncryptionByDefault']
    return converted


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape to the S3 API's."""
    converted: dict[str, Any] = {
        'ID': rule.get('Id', ''),
        'Status': rule['Status'],
        'Filter': {'Prefix': rule.get('Prefix', '')},
    }
    if 'ExpirationInDays' in rule:
        converted['Expiration'] = {'Days': int(rule['ExpirationInDays'])}
    return converted


def provision(template: Template, endpoint: str) -> None:
    Provisioner(template, endpoint).provision()
