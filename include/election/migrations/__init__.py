"""The schema's migrations, applied by Alembic: each one once, in order, recorded in `alembic_version`.

Alembic is what Airflow itself migrates its metadata database with (already in the lock): revisions with an
explicit order, a version table, upgrades in one transaction (PostgreSQL has transactional DDL), and a command
API a task can call. Each revision runs the SQL files of `include/election/sql/migrations/` (SQL stays SQL).

- `upgrade(connection)` brings a database to the newest revision; `election_schema` runs it.
- An installation made before Alembic (the hand-rolled `schema_migrations` of the single-election design) is
  upgraded in place: revision 0001 is that schema, written to be a no-op where it already exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from election.sql import read_sql

SCRIPT_LOCATION = Path(__file__).parent
# The schema before Alembic, as five hand-applied SQL files (revision 0001 applies them, in this order).
LEGACY_FILES = ("001_regions", "002_election", "003_read_only_role", "004_vote_outbox", "005_registered_voters")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, in code (no alembic.ini): where the revisions are, and the connection to use."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migration in {SCRIPT_LOCATION / 'versions'}")
    return revision


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current(connection: sa.Connection) -> str | None:
    """The revision a database is at (None: never migrated by Alembic)."""
    return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class Readers:
    """The login roles the migrations grant read access to (they exist before: the superuser creates them)."""

    dashboard: str
    stream: str


def upgrade(connection: sa.Connection, readers: Readers, target: str = "head") -> tuple[str | None, str]:
    """Apply every migration the database lacks up to `target` (the newest: "head"), in the caller's transaction;
    (revision before, after)."""
    before = current(connection)
    # The readers' role names, for the migrations' grants: settings of this transaction, bound, never SQL text.
    for name, role in (("election.dashboard_role", readers.dashboard), ("election.stream_role", readers.stream)):
        connection.exec_driver_sql("SELECT set_config(%s, %s, true)", (name, role))
    command.upgrade(alembic_config(connection), target)
    return before, current(connection) or target


def upgrade_database(url: str, readers: Readers, target: str = "head") -> tuple[str | None, str]:
    """`upgrade` on its own connection and transaction (committed when every migration applied)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            return upgrade(connection, readers, target)
    finally:
        engine.dispose()


def run_sql(name: str) -> None:
    """Execute one SQL file of `include/election/sql/` in the migration's transaction (revision scripts' helper)."""
    from alembic import op

    # Straight to the driver, with no parameters: the SQL's own % signs (format('%I', ...)) stay as they are.
    with op.get_bind().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(read_sql(name))
