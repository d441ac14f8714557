"""The schema's run-time steps besides its migrations: the regions reference rows, the readers, a check."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

from election import migrations
from election.config import Settings
from election.regions import load_regions
from election.sql import read_sql


def upsert_regions(conn: psycopg.Connection) -> int:
    """Write the reference table of regions; rows already equal are left untouched. Returns rows changed."""
    changed = 0
    with conn.transaction(), conn.cursor() as cur:
        for row in load_regions().to_dict("records"):
            cur.execute(read_sql("schema_steps/upsert_region.sql"), row)
            changed += cur.rowcount
    return changed


def readers(settings: Settings) -> migrations.Readers:
    """The read-only roles the migrations grant their views to: the dashboard's and the stream's."""
    return migrations.Readers(dashboard=settings.dashboard_db_user, stream=settings.stream_db_user)


def bring_up_to_date(settings: Settings) -> tuple[str | None, str]:
    """The election database as `election_schema` leaves it: migrated to the newest revision, regions written
    (both idempotent: a user's data is kept). `election_schema` runs the two as tasks of their own, each with its
    log; this is the same for code outside Airflow (the tests' session, a benchmark on a new stack). Returns
    (revision before, revision after)."""
    revisions = migrations.upgrade_database(settings.election_db.sqlalchemy_url("psycopg"), readers(settings))
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        upsert_regions(conn)
    return revisions


def schema_revision(url: str) -> tuple[str | None, str]:
    """(the revision the database is at, the newest revision)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return migrations.current(connection), migrations.head()
    finally:
        engine.dispose()
