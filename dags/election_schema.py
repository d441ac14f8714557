"""
# election_schema

Creates and migrates the schema of the `election` database. **Idempotent**: run it on an up-to-date schema and
nothing changes; it succeeds again.

| Task | What it does |
| --- | --- |
| `migrate_schema` | applies, with Alembic, every migration the database lacks (`include/election/migrations/`), each once and recorded in `alembic_version`, all in one transaction; the migrations hold every grant: the dashboard's and the stream's roles read views without personal data (`results`, `registry`) |
| `load_regions` | writes the reference table of regions (50 states + DC) from `include/election/data/us_states.csv` |
| `verify_schema` | checks the database is at the newest revision, then marks the `election_schema` Asset |

Tables: `elections` (one row per election: `open` → `closed` → `certified`), `regions`, and per election
`parties`, `candidates`, `voters`, `votes` (primary key `(election_id, voter_id)`: one vote per voter and
election, enforced by the database; a vote for an election that is not open is refused), `vote_outbox`,
`registered_voters_per_state`, `certified_results`.

**Upgrading** an installation made before elections existed: its one election becomes election 1, every vote
kept. Nothing is started when this DAG succeeds: create elections with `election_seed`.
"""

from __future__ import annotations

import logging

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, ELECTION_SCHEMA, START_DATE

log = logging.getLogger(__name__)
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
)
def election_schema() -> None:
    @task
    def migrate_schema() -> str:
        from election.airflow_io import postgres_sqlalchemy_url
        from election.migrations import upgrade_database
        from election.schema import readers

        before, after = upgrade_database(postgres_sqlalchemy_url(), readers(settings))
        if before == after:
            log.info("schema already at %s: nothing to migrate", after)
        else:
            log.info("schema migrated from %s to %s", before or "an empty database", after)
        return after

    @task
    def load_regions() -> int:
        from election.airflow_io import postgres_connection
        from election.schema import upsert_regions

        with postgres_connection() as conn:
            changed = upsert_regions(conn)
        log.info("regions: %d rows written (0 when the reference table was already up to date)", changed)
        return changed

    @task(outlets=[ELECTION_SCHEMA])
    def verify_schema() -> str:
        from election.airflow_io import postgres_sqlalchemy_url
        from election.schema import schema_revision

        current, newest = schema_revision(postgres_sqlalchemy_url())
        if current != newest:
            raise AirflowFailException(f"schema at revision {current}, expected {newest}")
        log.info("schema up to date: revision %s", current)
        return current

    migrate_schema() >> load_regions() >> verify_schema()


election_schema()
