"""The single-election schema this platform had before elections existed (its five hand-applied SQL files).

Written to be a no-op on a database that already has it (`IF NOT EXISTS`, `CREATE OR REPLACE`), so a pre-Alembic
installation passes through it unchanged and is upgraded by 0002.

Revision ID: 0001_legacy_schema
"""

from __future__ import annotations

from election.migrations import LEGACY_FILES, run_sql

revision = "0001_legacy_schema"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in LEGACY_FILES:
        run_sql(f"migrations/0001_legacy_schema/{name}.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
