"""The deployment's engine follows QUERY_ENGINE: Athena in AWS, the local stack's lake engine locally."""

from local.environment import stack_settings
from serverless_analytics.engines import AthenaEngine
from serverless_analytics.logic.query_engine import query_engine


def test_athena_runs_in_the_configured_workgroup_and_database():
    engine = query_engine(stack_settings(QUERY_ENGINE='athena', ATHENA_WORKGROUP='analytics', GLUE_DATABASE='lake_db'))

    assert isinstance(engine, AthenaEngine)
    assert (engine.workgroup, engine.lake_source) == ('analytics', '"lake_db"."events"')


def test_one_engine_serves_every_request_of_a_container():
    settings = stack_settings(QUERY_ENGINE='athena')

    assert query_engine(settings) is query_engine(stack_settings(QUERY_ENGINE='athena'))


def test_the_local_engine_keeps_results_as_long_as_query_states_live():
    engine = query_engine(stack_settings(QUERY_ENGINE='duckdb', QUERY_STATE_TTL_SECONDS=123))

    assert type(engine).__name__ == 'LocalLakeDuckDBEngine'
    assert engine.result_retention_seconds == 123
