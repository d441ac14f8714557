"""Elections as first-class: an `elections` table with a lifecycle, every row belonging to an election.

Revision ID: 0002_elections
Revises: 0001_legacy_schema
"""

from __future__ import annotations

from election.migrations import run_sql

revision = "0002_elections"
down_revision = "0001_legacy_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("migrations/0002_elections.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
