"""
# election_schema

Creates and migrates the schema of the `election` database. **Idempotent**: run it on an existing schema
and nothing changes; it succeeds again.

| Task | What it does |
| --- | --- |
| `migrate_schema` | runs the SQL migrations under `include/election/sql/schema/` in one transaction (common-sql `SQLExecuteQueryOperator`, conn `election_postgres`) |
| `load_regions` | writes the reference table of regions (50 states + DC) from `include/election/data/us_states.csv` |
| `grant_dashboard_access` | creates the dashboard's read-only login role (SELECT only), password from the config module |
| `verify_schema` | checks every migration is recorded, then marks the `election_schema` Asset |

Tables: `regions`, `parties`, `candidates`, `voters`, `votes` (primary key `voter_id`: one vote per voter,
enforced by the database), `election_registry`, `schema_migrations`.

`election_seed` is scheduled on the `election_schema` Asset: a successful run here starts it with its default
parameters. Trigger this DAG from the UI whenever you like.
"""

from __future__ import annotations

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, ELECTION_SCHEMA, START_DATE
from election.sql import SQL_DIR, schema_files

settings = get_settings()


@dag(
    dag_id="election_schema",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "schema", "postgres"],
    template_searchpath=[str(SQL_DIR)],
)
def election_schema() -> None:
    migrate_schema = SQLExecuteQueryOperator(
        task_id="migrate_schema",
        conn_id=settings.postgres_conn_id,
        sql=schema_files(),
        autocommit=False,  # every migration file in one transaction: all of them or none
        do_xcom_push=False,
    )

    @task
    def load_regions() -> int:
        from election.airflow_io import postgres_connection
        from election.schema import upsert_regions

        with postgres_connection() as conn:
            changed = upsert_regions(conn)
        print(f"regions: {changed} rows written (0 when the reference table was already up to date)")
        return changed

    @task
    def grant_dashboard_access() -> str:
        from election.airflow_io import postgres_connection
        from election.schema import grant_read_only

        with postgres_connection() as conn:
            grant_read_only(conn, settings.dashboard_db_user, settings.dashboard_db_password)
        return settings.dashboard_db_user

    @task(outlets=[ELECTION_SCHEMA])
    def verify_schema() -> list[str]:
        from election.airflow_io import postgres_connection
        from election.schema import applied_migrations, missing_migrations

        with postgres_connection() as conn:
            missing = missing_migrations(conn)
            applied = applied_migrations(conn)
        if missing:
            raise AirflowFailException(f"migrations not applied: {missing}")
        print(f"schema up to date: {', '.join(applied)}")
        return applied

    migrate_schema >> load_regions() >> grant_dashboard_access() >> verify_schema()


election_schema()
