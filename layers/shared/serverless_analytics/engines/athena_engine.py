"""Amazon Athena (Trino dialect) engine, on the shared AWS client factory (adapters.clients, the boto3 user).

StartQueryExecution with the configured workgroup and result reuse; GetQueryExecution until a final state;
GetQueryResults pages converted to Python values by the column types Athena reports.
"""

from datetime import date, datetime
from decimal import Decimal

from serverless_analytics.adapters.clients import answering_unavailable
from serverless_analytics.adapters.clients import client as aws_client
from serverless_analytics.cube.engines.base import QueryEngine, QueryResult, ResultColumn

_RUNNING = ('QUEUED', 'RUNNING')
_INTEGER_TYPES = ('tinyint', 'smallint', 'integer', 'int', 'bigint')
_FLOAT_TYPES = ('double', 'float', 'real')


class AthenaQueryError(Exception):
    """The execution FAILED or was CANCELLED; the message is Athena's StateChangeReason."""


class AthenaEngine(QueryEngine):
    dialect = 'athena'
    db_type = 'athena'

    def __init__(
        self,
        workgroup: str,
        database: str,
        table: str = 'events',
        *,
        catalog: str = 'AwsDataCatalog',
        output_location: str | None = None,
        reuse_minutes: int = 60,
        client=None,
        poll_first_delay: float = 0.2,
        poll_max_delay: float = 2.0,
    ):
        self.workgroup = workgroup
        self.database = database
        self.catalog = catalog
        self.output_location = output_location
        self.reuse_minutes = reuse_minutes
        self.lake_source = f'"{database.replace(chr(34), "")}"."{table.replace(chr(34), "")}"'
        self._client = client
        self.poll_first_delay = poll_first_delay
        self.poll_max_delay = poll_max_delay

    @property
    def client(self):
        """Made on first use: a load whose query is rejected before it runs never needs one."""
        if self._client is None:
            self._client = aws_client('athena')
        return self._client

    def start(self, sql: str) -> str:
        request = {
            'QueryString': sql,
            'WorkGroup': self.workgroup,
            'QueryExecutionContext': {'Database': self.database, 'Catalog': self.catalog},
        }
        if self.output_location:
            request['ResultConfiguration'] = {'OutputLocation': self.output_location}
        if self.reuse_minutes:
            request['ResultReuseConfiguration'] = {
                'ResultReuseByAgeConfiguration': {'Enabled': True, 'MaxAgeInMinutes': self.reuse_minutes}
            }
        with answering_unavailable('Athena StartQueryExecution'):
            return self.client.start_query_execution(**request)['QueryExecutionId']

    def poll(self, execution_id: str) -> QueryResult | None:
        with answering_unavailable('Athena GetQueryExecution'):
            status = self.client.get_query_execution(QueryExecutionId=execution_id)['QueryExecution']['Status']
        state = status['State']
        if state in _RUNNING:
            return None
        if state != 'SUCCEEDED':
            raise AthenaQueryError(status.get('StateChangeReason') or f'Query {execution_id} {state}')
        return self.fetch(execution_id)

    def fetch(self, execution_id: str) -> QueryResult:
        """All pages of GetQueryResults; the first row of the first page is the header."""
        columns: list[ResultColumn] = []
        rows: list[tuple] = []
        kwargs = {'QueryExecutionId': execution_id, 'MaxResults': 1000}
        first_page = True
        while True:
            with answering_unavailable('Athena GetQueryResults'):
                page = self.client.get_query_results(**kwargs)
            result_set = page['ResultSet']
            if first_page:
                info = result_set.get('ResultSetMetadata', {}).get('ColumnInfo', [])
                columns = [ResultColumn(c['Name'], c['Type'].lower()) for c in info]
            data = result_set.get('Rows', [])[1 if first_page else 0 :]
            rows += [_convert_row(row, columns) for row in data]
            first_page = False
            if not page.get('NextToken'):
                return QueryResult(columns, rows)
            kwargs['NextToken'] = page['NextToken']


def _convert_row(row: dict, columns: list[ResultColumn]) -> tuple:
    cells = row.get('Data', [])
    return tuple(
        convert_value(cell.get('VarCharValue'), column.type) for cell, column in zip(cells, columns, strict=False)
    )


def convert_value(text: str | None, athena_type: str):
    """An Athena result cell (always text, absent for NULL) to a Python value of its column type."""
    if text is None:
        return None
    base = athena_type.split('(')[0].strip()
    if base in _INTEGER_TYPES:
        return int(text)
    if base in _FLOAT_TYPES:
        return float(text)
    if base == 'decimal':
        return Decimal(text)
    if base == 'boolean':
        return text.lower() == 'true'
    if base.startswith('timestamp'):
        return _timestamp(text)
    if base == 'date':
        return date.fromisoformat(text)
    return text


def _timestamp(text: str) -> datetime:
    """`2024-05-01 10:00:00.000` (optionally with ` UTC` or an offset) to a naive or aware datetime."""
    value = text.strip()
    if value.endswith(' UTC'):
        value = value[:-4] + '+00:00'
    head, _, fraction = value.partition('.')
    if fraction:
        digits = ''.join(ch for ch in fraction if ch.isdigit())
        rest = fraction[len(digits) :]
        value = f'{head}.{digits[:6].ljust(6, "0")}{rest}'
    return datetime.fromisoformat(value)
