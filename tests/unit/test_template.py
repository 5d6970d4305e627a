"""template.yaml keeps its promises: every function has its code, sample event and log group; the Glue table
matches the lake schema; the stream trigger is configured so a bad record cannot block a shard."""

from pathlib import Path

import pyarrow as pa
import pytest

from local.template import Template
from serverless_analytics.lake.schema import FILE_SCHEMA, PARTITION_COLUMNS
from serverless_analytics.logic.app_catalogue import CATALOGUE_SCHEMA
from serverless_analytics.logic.usage_buckets import BUCKET_SCHEMA
from serverless_analytics.logic.user_sessions import SCHEMA as USER_SESSIONS_SCHEMA
from serverless_analytics.logic.workspace_builds import BUILD_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template.load()
RESOURCES = TEMPLATE.resources
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r['Type'] == 'AWS::Serverless::Function'}
GLUE_TYPES = {
    pa.string(): 'string',
    pa.bool_(): 'boolean',
    pa.timestamp('ms', tz='UTC'): 'timestamp',
    pa.list_(pa.string()): 'array<string>',
    pa.int32(): 'int',
    pa.int64(): 'bigint',
    pa.float32(): 'float',
}


def _code_dir(function: dict) -> Path:
    return ROOT / function['Properties']['CodeUri']


@pytest.mark.parametrize('name', FUNCTIONS)
def test_every_function_has_a_handler_and_a_sample_event(name):
    code = _code_dir(FUNCTIONS[name])
    assert (code / 'app.py').is_file()
    assert (ROOT / 'events' / f'{code.name}.json').is_file()


@pytest.mark.parametrize('name', FUNCTIONS)
def test_every_function_has_a_log_group_with_retention(name):
    groups = [
        r
        for r in RESOURCES.values()
        if r['Type'] == 'AWS::Logs::LogGroup' and name in str(r['Properties'].get('LogGroupName'))
    ]
    assert len(groups) == 1
    assert 'RetentionInDays' in groups[0]['Properties']


def test_glue_table_columns_are_the_canonical_events_columns_of_the_lake_files():
    # FILE_SCHEMA is the canonical event's fields but the partition columns (lake.schema derives it, its test
    # checks that): a field added to the event and not to the table, or typed otherwise, fails here.
    table = RESOURCES['EventsGlueTable']['Properties']['TableInput']
    columns = [(c['Name'], c['Type']) for c in table['StorageDescriptor']['Columns']]
    assert columns == [(field.name, GLUE_TYPES[field.type]) for field in FILE_SCHEMA]
    partition_keys = [(k['Name'], k['Type']) for k in table['PartitionKeys']]
    assert partition_keys == [(name, 'string') for name in PARTITION_COLUMNS]
    assert table['Parameters']['projection.project_id.type'] == 'injected'


@pytest.mark.parametrize(
    ('name', 'table_name', 'schema'),
    [
        ('UsageBucketsGlueTable', 'usage_buckets', BUCKET_SCHEMA),
        ('WorkspaceBuildsGlueTable', 'workspace_builds', BUILD_SCHEMA),
    ],
)
def test_the_usage_rollups_glue_tables_are_its_files_partitioned_as_the_events(name, table_name, schema):
    # Both read the rollup's folders (the engine picks each table's file name); the partitions and their
    # projection are the events table's, so every query names its project and prunes its days the same way.
    table = RESOURCES[name]['Properties']['TableInput']
    events = RESOURCES['EventsGlueTable']['Properties']['TableInput']
    columns = [(c['Name'], c['Type']) for c in table['StorageDescriptor']['Columns']]
    assert table['Name'] == table_name
    assert columns == [(field.name, GLUE_TYPES[field.type]) for field in schema]
    assert table['PartitionKeys'] == events['PartitionKeys']
    location = {'Fn::Sub': 's3://${LakeBucket}/usage/project_id=${!project_id}/dt=${!dt}/'}
    assert table['Parameters'] == {**events['Parameters'], 'storage.location.template': location}
    assert table['StorageDescriptor']['Location'] == {'Fn::Sub': 's3://${LakeBucket}/usage/'}


@pytest.mark.parametrize(
    ('resource', 'name', 'schema', 'folder'),
    [
        ('AppCatalogueGlueTable', 'app_catalogue', CATALOGUE_SCHEMA, 'catalogue'),
        ('UserSessionsGlueTable', 'user_sessions', USER_SESSIONS_SCHEMA, 'user_sessions'),
    ],
)
def test_a_per_project_folder_glue_table_is_projected_as_the_events(resource, name, schema, folder):
    # The app catalogue (one file) and the user-session index (a file per day) each have a folder of their own per
    # project beside the days': the project is its only partition, injected as the events' is, so a scan must name
    # it and reads that one folder.
    table = RESOURCES[resource]['Properties']['TableInput']
    events = RESOURCES['EventsGlueTable']['Properties']['TableInput']
    columns = [(c['Name'], c['Type']) for c in table['StorageDescriptor']['Columns']]
    assert table['Name'] == name
    assert columns == [(field.name, GLUE_TYPES[field.type]) for field in schema]
    assert table['PartitionKeys'] == [{'Name': 'project_id', 'Type': 'string'}]
    location = {'Fn::Sub': f's3://${{LakeBucket}}/usage/project_id=${{!project_id}}/{folder}/'}
    projection = {name: value for name, value in events['Parameters'].items() if '.dt.' not in name}
    assert table['Parameters'] == {**projection, 'storage.location.template': location}
    assert table['StorageDescriptor']['Location'] == {'Fn::Sub': 's3://${LakeBucket}/usage/'}


@pytest.mark.parametrize('consumer', ['WriteEventsFunction', 'UpdateUserDirectoryFunction'])
def test_stream_triggers_bound_retries_and_report_partial_failures(consumer):
    source = FUNCTIONS[consumer]['Properties']['Events']['Stream']['Properties']
    assert source['BisectBatchOnFunctionError'] is True
    assert 0 < source['MaximumRetryAttempts'] <= 10_000
    assert 0 < source['MaximumRecordAgeInSeconds'] <= 604_800
    assert source['FunctionResponseTypes'] == ['ReportBatchItemFailures']
    assert 'OnFailure' in source['DestinationConfig']


def test_only_the_user_directorys_consumer_touches_the_users_table_of_the_streams_consumers():
    def users_actions(name: str) -> set[str]:
        statements = FUNCTIONS[name]['Properties']['Policies'][0]['Statement']
        return {
            action
            for statement in statements
            if statement['Resource'] == {'Fn::GetAtt': ['UsersTable', 'Arn']}
            for action in statement['Action']
        }

    assert users_actions('WriteEventsFunction') == set()
    assert users_actions('UpdateUserDirectoryFunction') == {
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
    }


def test_lake_bucket_is_encrypted_and_private():
    bucket = RESOURCES['LakeBucket']['Properties']
    assert bucket['BucketEncryption']['ServerSideEncryptionConfiguration']
    assert all(bucket['PublicAccessBlockConfiguration'].values())


def test_athena_workgroup_enforces_result_location_and_scan_cutoff():
    config = RESOURCES['AthenaWorkGroup']['Properties']['WorkGroupConfiguration']
    assert config['EnforceWorkGroupConfiguration'] is True
    assert 'BytesScannedCutoffPerQuery' in config
    assert config['ResultConfiguration']['OutputLocation']


def test_only_the_functions_that_read_lake_files_or_stream_records_ship_pyarrow():
    for name, function in FUNCTIONS.items():
        requirements = _code_dir(function) / 'requirements.txt'
        ships = requirements.is_file() and 'pyarrow' in requirements.read_text()
        lake_readers = (
            'WriteEventsFunction',
            'UpdateUserDirectoryFunction',
            'CompactLakeFunction',
            'RollUpUsageFunction',
        )
        assert ships == (name in lake_readers)


def test_the_usage_rollup_runs_every_five_minutes_and_writes_only_usage_objects():
    function = FUNCTIONS['RollUpUsageFunction']['Properties']
    (trigger,) = function['Events'].values()
    assert (trigger['Type'], trigger['Properties']['Schedule']) == ('Schedule', 'rate(5 minutes)')
    statements = function['Policies'][0]['Statement']
    writes = [
        s for s in statements if 's3:PutObject' in (s['Action'] if isinstance(s['Action'], list) else [s['Action']])
    ]
    assert [s['Resource'] for s in writes] == [{'Fn::Sub': '${LakeBucket.Arn}/usage/*'}]


def test_lake_compaction_runs_on_a_schedule_and_may_touch_only_the_lake_files():
    function = FUNCTIONS['CompactLakeFunction']['Properties']
    (trigger,) = function['Events'].values()
    assert trigger['Type'] == 'Schedule'
    assert TEMPLATE.parameters['LakeCompactionSchedule'].startswith('rate(')
    statements = function['Policies'][0]['Statement']
    assert {
        action for s in statements for action in ([s['Action']] if isinstance(s['Action'], str) else s['Action'])
    } == {
        's3:ListBucket',
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
    }
    assert all('events' in str(s.get('Condition') or s['Resource']) for s in statements)
