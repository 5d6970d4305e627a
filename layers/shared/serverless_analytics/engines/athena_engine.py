"""Amazon Athena (Trino dialect) engine: the polling and the typed reading of results, over the Athena adapter.

StartQueryExecution with the configured workgroup and result reuse; GetQueryExecution until a final state;
GetQueryResults pages converted to Python values by the column types Athena reports.
"""

from datetime import date, datetime
from decimal import Decimal
from itertools import takewhile

from serverless_analytics.adapters import athena
from serverless_analytics.engines.base import (
    PollSchedule,
    QueryEngine,
    QueryExecutionError,
    QueryResult,
    ResultColumn,
)

_RUNNING = ('QUEUED', 'RUNNING')
# Each poll is a GetQueryExecution call (default quota: 100 a second per account, bursts of 200, shared by every
# query the account runs), and no Athena query ends before about 0.3 s (queueing, planning, writing the result to
# S3, even for a reused result). So the first poll waits 0.4 s, and each next poll comes 10% of the time waited
# plus 90 ms later: a query is seen at most 10% + 90 ms after it ends (the bound is 10% + 100 ms; 10 ms is
# kept for the timer's lateness), for about 5 calls by 1 s, 17 by 5 s and 42 by 60 s. docs/cube.md has the table
# beside the old 0.2 s doubling to 2 s; bench/bench_athena_poll.py computes it.
ATHENA_POLL_SCHEDULE = PollSchedule(first_poll=0.4, fraction=0.1, slack=0.09)
_INTEGER_TYPES = ('tinyint', 'smallint', 'integer', 'int', 'bigint')
_FLOAT_TYPES = ('double', 'float', 'real')


class AthenaQueryError(QueryExecutionError):
    """The execution FAILED or was CANCELLED; the message is Athena's StateChangeReason."""


class AthenaEngine(QueryEngine):
    """The usage rollup's buckets and builds Glue tables share their folders (template.yaml), so each reads its own
    file name; its app catalogue has a folder of its own."""

    dialect = 'athena'
    db_type = 'athena'

    def __init__(
        self,
        workgroup: str,
        database: str,
        table: str = 'events',
        *,
        usage_table: str = 'usage_buckets',
        builds_table: str = 'workspace_builds',
        catalogue_table: str = 'app_catalogue',
        user_sessions_table: str = 'user_sessions',
        catalog: str = 'AwsDataCatalog',
        output_location: str | None = None,
        reuse_minutes: int = 60,
        poll_schedule: PollSchedule = ATHENA_POLL_SCHEDULE,
    ):
        self.workgroup = workgroup
        self.database = database
        self.catalog = catalog
        self.output_location = output_location
        self.reuse_minutes = reuse_minutes
        self.lake_source = _table(database, table)
        self._usage_source = _files_named(_table(database, usage_table), 'buckets.parquet')
        self._builds_source = _files_named(_table(database, builds_table), 'builds.parquet')
        self._catalogue_source = _table(database, catalogue_table)
        self._user_sessions_source = _table(database, user_sessions_table)
        self.poll_schedule = poll_schedule

    @property
    def usage_source(self) -> str:
        return self._usage_source

    @property
    def builds_source(self) -> str:
        return self._builds_source

    @property
    def catalogue_source(self) -> str:
        return self._catalogue_source

    def user_sessions_source(self, project_id: str) -> str | None:
        """Every project's index is the table (its partition projection finds the project's folder); a project the
        rollup has not indexed yet reads none of its history beyond a range (docs/cube.md: run the rollup by hand
        over the history once after an upgrade)."""
        return self._user_sessions_source

    def start(self, sql: str) -> str:
        return athena.start_query(
            sql,
            workgroup=self.workgroup,
            database=self.database,
            catalog=self.catalog,
            output_location=self.output_location,
            reuse_minutes=self.reuse_minutes,
        )

    def poll(self, execution_id: str) -> QueryResult | None:
        status = athena.execution_status(execution_id)
        if status.state in _RUNNING:
            return None
        if status.state != 'SUCCEEDED':
            raise AthenaQueryError(status.reason or f'Query {execution_id} {status.state}')
        return self.fetch(execution_id)

    def fetch(self, execution_id: str) -> QueryResult:
        """The typed rows of a finished execution; the first row of the first page is the header."""
        result_sets = athena.result_sets(execution_id)
        if not result_sets:
            return QueryResult()
        info = result_sets[0].get('ResultSetMetadata', {}).get('ColumnInfo', [])
        columns = [ResultColumn(c['Name'], c['Type'].lower()) for c in info]
        rows = [row for result_set in result_sets for row in result_set.get('Rows', [])][1:]
        return QueryResult(columns, [_convert_row(row, columns) for row in rows])


def _table(database: str, table: str) -> str:
    return f'"{database.replace(chr(34), "")}"."{table.replace(chr(34), "")}"'


def _files_named(table: str, file_name: str) -> str:
    """The table's rows from files of that name only (Trino's `$path`: the object's URI)."""
    return f"""(SELECT * FROM {table} WHERE "$path" LIKE '%/{file_name}')"""


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
    """`2024-05-01 10:00:00.000` (optionally with ` UTC` or an offset) to a naive or aware datetime.

    Python reads at most microseconds, and Trino writes up to picoseconds: the fraction is cut to six digits."""
    value = text.strip()
    if value.endswith(' UTC'):
        value = value[:-4] + '+00:00'
    head, _, fraction = value.partition('.')
    if fraction:
        digits = ''.join(takewhile(str.isdigit, fraction))
        offset = fraction[len(digits) :].strip()
        value = f'{head}.{digits[:6].ljust(6, "0")}{offset}'
    return datetime.fromisoformat(value)
