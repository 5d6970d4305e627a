"""Athena access: start a query execution, read its state, read its results.

Any failure of the service answers ServiceUnavailableError; a query that Athena ran and that failed is not a
failure of the service, and comes back as the execution's state for the engine to judge.
"""

from typing import Any, NamedTuple

from serverless_analytics.adapters.clients import answering_unavailable, client

RESULTS_PAGE_SIZE = 1000  # the most GetQueryResults returns per call


class ExecutionStatus(NamedTuple):
    state: str  # QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED
    reason: str | None  # Athena's StateChangeReason (why it failed or was cancelled)


def start_query(
    sql: str,
    *,
    workgroup: str,
    database: str,
    catalog: str,
    output_location: str | None = None,
    reuse_minutes: int = 0,
) -> str:
    """Start `sql` in the workgroup; returns the execution id. With `reuse_minutes`, Athena answers from the
    result of an identical query run within that many minutes instead of scanning again."""
    request: dict[str, Any] = {
        'QueryString': sql,
        'WorkGroup': workgroup,
        'QueryExecutionContext': {'Database': database, 'Catalog': catalog},
    }
    if output_location:
        request['ResultConfiguration'] = {'OutputLocation': output_location}
    if reuse_minutes:
        request['ResultReuseConfiguration'] = {
            'ResultReuseByAgeConfiguration': {'Enabled': True, 'MaxAgeInMinutes': reuse_minutes}
        }
    with answering_unavailable('Athena StartQueryExecution'):
        return client('athena').start_query_execution(**request)['QueryExecutionId']


def execution_status(execution_id: str) -> ExecutionStatus:
    with answering_unavailable('Athena GetQueryExecution'):
        answer = client('athena').get_query_execution(QueryExecutionId=execution_id)
    status = answer['QueryExecution']['Status']
    return ExecutionStatus(status['State'], status.get('StateChangeReason'))


def result_sets(execution_id: str) -> list[dict[str, Any]]:
    """Every page's ResultSet of a finished execution, in order: rows of text cells (no `VarCharValue` for NULL),
    the first row of the first page being the column names, and the columns' names and types in its metadata."""
    with answering_unavailable('Athena GetQueryResults'):
        pages = (
            client('athena')
            .get_paginator('get_query_results')
            .paginate(QueryExecutionId=execution_id, PaginationConfig={'PageSize': RESULTS_PAGE_SIZE})
        )
        return [page['ResultSet'] for page in pages]
