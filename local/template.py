"""template.yaml as the local stack sees it: intrinsics resolved to local names, functions, routes and triggers.

Everything the template says (resource names, routes, environment, event source mapping settings) is read
from it here, so the local stack follows the template instead of repeating it.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cfn_tools import load_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / 'template.yaml'
REGION = 'us-east-1'
ACCOUNT_ID = '123456789012'
STACK_NAME = 'local'
STREAM_WRITER = 'WriteEventsFunction'  # the stream consumer that writes the lake

PSEUDO_PARAMETERS = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT_ID,
    'AWS::StackName': STACK_NAME,
    'AWS::StackId': f'arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local',
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NoValue': None,
}

# Where a resource type keeps its explicit physical name (what `!Ref` returns when the template names it).
NAME_PROPERTIES = {
    'AWS::Kinesis::Stream': ('Name',),
    'AWS::DynamoDB::Table': ('TableName',),
    'AWS::S3::Bucket': ('BucketName',),
    'AWS::Glue::Database': ('DatabaseInput', 'Name'),
    'AWS::Glue::Table': ('TableInput', 'Name'),
    'AWS::Athena::WorkGroup': ('Name',),
    'AWS::Logs::LogGroup': ('LogGroupName',),
    'AWS::Serverless::Function': ('FunctionName',),
    'AWS::Lambda::Function': ('FunctionName',),
    'AWS::SecretsManager::Secret': ('Name',),
}

_SUB_VARIABLE = re.compile(r'\$\{([^}]*)\}')


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with `{name}` placeholders, as in the template


@dataclass(frozen=True)
class KinesisSource:
    """A function's Kinesis trigger: what the Lambda event source mapping would be configured with."""

    stream_name: str
    stream_arn: str
    starting_position: str
    batch_size: int
    batching_window_seconds: int
    bisect_on_error: bool
    max_retry_attempts: int  # -1: until the record expires
    max_record_age_seconds: int  # -1: no limit
    report_batch_item_failures: bool
    on_failure_bucket: str | None


@dataclass(frozen=True)
class ScheduleSource:
    """A function's EventBridge schedule (`Schedule` or `ScheduleV2` event)."""

    name: str  # the event's name in the template
    expression: str  # rate(...) or cron(...)
    input: Mapping[str, Any] | None  # the fixed event, when the template gives one; else EventBridge's envelope
    enabled: bool


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    module: str  # e.g. functions.track_event.app
    handler_name: str  # e.g. lambda_handler
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    layer_dirs: tuple[str, ...]
    routes: tuple[Route, ...] = ()
    kinesis: KinesisSource | None = None
    schedules: tuple[ScheduleSource, ...] = ()

    @property
    def arn(self) -> str:
        return f'arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.logical_id}'


@dataclass
class Template:
    raw: dict[str, Any]
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH, parameter_overrides: Mapping[str, str] | None = None) -> 'Template':
        return cls(load_yaml(path.read_text()), dict(parameter_overrides or {}))

    # ---- intrinsics ---------------------------------------------------------------------------------

    @cached_property
    def parameters(self) -> dict[str, Any]:
        values = {name: spec.get('Default') for name, spec in (self.raw.get('Parameters') or {}).items()}
        unknown = set(self.parameter_overrides) - set(values)
        if unknown:
            raise KeyError(f'Unknown template parameters: {", ".join(sorted(unknown))}')
        return {**values, **self.parameter_overrides}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.raw.get('Resources') or {}

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        explicit = _dig(resource.get('Properties') or {}, NAME_PROPERTIES.get(resource['Type'], ()))
        if explicit is not None:
            return str(self.resolve(explicit))
        if resource['Type'] == 'AWS::S3::Bucket':
            return logical_id.lower()  # bucket names must be lower case
        return logical_id

    def ref(self, name: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise KeyError(f'!Ref to unknown name {name!r}')
        if self.resources[name]['Type'] in ('AWS::Serverless::LayerVersion', 'AWS::Lambda::LayerVersion'):
            return f'arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{name}:1'
        # A secret's Ref is its ARN in AWS, which ends in a random suffix that moto picks; the name finds the
        # same secret in every Secrets Manager call.
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute != 'Arn':
            raise KeyError(f'!GetAtt {logical_id}.{attribute}: only Arn is known locally')
        return self.arn_of(logical_id)

    def arn_of(self, logical_id: str) -> str:
        kind, name = self.resources[logical_id]['Type'], self.physical_name(logical_id)
        arns = {
            'AWS::Kinesis::Stream': f'arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{name}',
            'AWS::DynamoDB::Table': f'arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}',
            'AWS::S3::Bucket': f'arn:aws:s3:::{name}',
            'AWS::Logs::LogGroup': f'arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*',
            'AWS::Serverless::Function': f'arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}',
            'AWS::Lambda::Function': f'arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}',
            'AWS::SQS::Queue': f'arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}',
            'AWS::SNS::Topic': f'arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}',
            'AWS::Athena::WorkGroup': f'arn:aws:athena:{REGION}:{ACCOUNT_ID}:workgroup/{name}',
        }
        if kind not in arns:
            raise KeyError(f'No local ARN for {logical_id} ({kind})')
        return arns[kind]

    def resolve(self, value: Any) -> Any:
        """A template value with every intrinsic function replaced by its local result."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == 'Ref':
                return self.ref(argument)
            if key == 'Fn::GetAtt':
                logical_id, attribute = argument if isinstance(argument, list) else argument.split('.', 1)
                return self.get_att(logical_id, attribute)
            if key == 'Fn::Sub':
                return self._sub(argument)
            if key == 'Fn::Join':
                separator, items = argument
                return str(separator).join(str(item) for item in self.resolve(items))
            if key == 'Fn::Select':
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key.startswith('Fn::'):
                raise NotImplementedError(f'{key} is not supported by the local stack')
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith('!'):  # ${!literal} is written out as ${literal}
                return '${' + name[1:] + '}'
            if name in variables:
                return str(variables[name])
            if '.' in name and name.split('.', 1)[0] in self.resources:
                return str(self.get_att(*name.split('.', 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    # ---- resources ----------------------------------------------------------------------------------

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """Resources of one type, with their properties resolved."""
        return {
            logical_id: self.resolve(resource.get('Properties') or {})
            for logical_id, resource in self.resources.items()
            if resource['Type'] == kind
        }

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        return {
            logical_id: self._function(logical_id, resource.get('Properties') or {})
            for logical_id, resource in self.resources.items()
            if resource['Type'] == 'AWS::Serverless::Function'
        }

    def function(self, logical_id: str) -> FunctionSpec:
        if logical_id not in self.functions:
            raise KeyError(f'No function {logical_id!r} in the template; known: {", ".join(self.functions)}')
        return self.functions[logical_id]

    @property
    def _globals(self) -> dict[str, Any]:
        return (self.raw.get('Globals') or {}).get('Function') or {}

    def _function(self, logical_id: str, properties: Mapping[str, Any]) -> FunctionSpec:
        setting = {**self._globals, **properties}
        code_dir = str(self.resolve(setting['CodeUri'])).strip('/')
        handler_module, handler_name = str(self.resolve(setting['Handler'])).rsplit('.', 1)
        events = properties.get('Events') or {}
        return FunctionSpec(
            logical_id=logical_id,
            module='.'.join([*Path(code_dir).parts, *handler_module.split('/')]),
            handler_name=handler_name,
            timeout_seconds=int(self.resolve(setting.get('Timeout', 3))),
            memory_mb=int(self.resolve(setting.get('MemorySize', 128))),
            environment=self._environment(properties),
            layer_dirs=self._layer_dirs(setting.get('Layers') or []),
            routes=tuple(self._routes(events)),
            kinesis=self._kinesis_source(events),
            schedules=tuple(self._schedules(events)),
        )

    def _environment(self, properties: Mapping[str, Any]) -> dict[str, str]:
        global_vars = (self._globals.get('Environment') or {}).get('Variables') or {}
        own_vars = (properties.get('Environment') or {}).get('Variables') or {}
        merged = self.resolve({**global_vars, **own_vars})
        return {name: _env_text(value) for name, value in merged.items() if value is not None}

    def _layer_dirs(self, layers: list[Any]) -> tuple[str, ...]:
        """Source folders of the template's own layers (a layer given by ARN has no local source)."""
        dirs = []
        for layer in layers:
            if isinstance(layer, Mapping) and 'Ref' in layer and layer['Ref'] in self.resources:
                content_uri = (self.resources[layer['Ref']].get('Properties') or {}).get('ContentUri')
                if isinstance(content_uri, str):
                    dirs.append(content_uri.strip('/'))
        return tuple(dirs)

    def _routes(self, events: Mapping[str, Any]) -> list[Route]:
        return [
            Route(
                method=str(self.resolve(e['Properties']['Method'])).upper(), path=self.resolve(e['Properties']['Path'])
            )
            for e in events.values()
            if e.get('Type') == 'HttpApi' and 'Path' in (e.get('Properties') or {})
        ]

    def _kinesis_source(self, events: Mapping[str, Any]) -> KinesisSource | None:
        sources = [self.resolve(e['Properties']) for e in events.values() if e.get('Type') == 'Kinesis']
        if not sources:
            return None
        config = sources[0]
        destination = ((config.get('DestinationConfig') or {}).get('OnFailure') or {}).get('Destination')
        return KinesisSource(
            stream_name=config['Stream'].rsplit('/', 1)[1],
            stream_arn=config['Stream'],
            starting_position=config.get('StartingPosition', 'TRIM_HORIZON'),
            batch_size=int(config.get('BatchSize', 100)),
            batching_window_seconds=int(config.get('MaximumBatchingWindowInSeconds', 0)),
            bisect_on_error=bool(config.get('BisectBatchOnFunctionError', False)),
            max_retry_attempts=int(config.get('MaximumRetryAttempts', -1)),
            max_record_age_seconds=int(config.get('MaximumRecordAgeInSeconds', -1)),
            report_batch_item_failures='ReportBatchItemFailures' in (config.get('FunctionResponseTypes') or []),
            on_failure_bucket=_bucket_of(destination),
        )

    def _schedules(self, events: Mapping[str, Any]) -> list[ScheduleSource]:
        found = []
        for name, event in events.items():
            if event.get('Type') not in ('Schedule', 'ScheduleV2'):
                continue
            config = self.resolve(event.get('Properties') or {})
            given = config.get('Input')
            found.append(
                ScheduleSource(
                    name=name,
                    expression=str(config.get('Schedule') or config.get('ScheduleExpression')),
                    input=json.loads(given) if given else None,
                    enabled=bool(config.get('Enabled', True)) and config.get('State', 'ENABLED') == 'ENABLED',
                )
            )
        return found

    @property
    def scheduled(self) -> list[tuple[FunctionSpec, ScheduleSource]]:
        return [(spec, schedule) for spec in self.functions.values() for schedule in spec.schedules]

    @property
    def http_routes(self) -> list[tuple[Route, FunctionSpec]]:
        return [(route, spec) for spec in self.functions.values() for route in spec.routes]

    @property
    def stream_consumers(self) -> list[FunctionSpec]:
        """The functions an event source mapping feeds from a stream (the writer, the user directory)."""
        return [spec for spec in self.functions.values() if spec.kinesis]

    @property
    def stream_writer(self) -> FunctionSpec | None:
        """The consumer that writes the lake."""
        return self.functions.get(STREAM_WRITER)

    @property
    def layer_dirs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for spec in self.functions.values() for d in spec.layer_dirs))


def _dig(mapping: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = mapping
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value if path else None


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _bucket_of(destination: str | None) -> str | None:
    if not destination:
        return None
    if not destination.startswith('arn:aws:s3:::'):
        raise NotImplementedError(f'Only S3 on-failure destinations are supported locally, not {destination}')
    return destination.removeprefix('arn:aws:s3:::')
