"""Vote counts kept by the database: the dashboard reads a few rows, not every vote.

Revision ID: 0006_vote_counts
Revises: 0005_reporting
"""

from __future__ import annotations

from election.migrations import run_sql

revision = "0006_vote_counts"
down_revision = "0005_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("migrations/0006_vote_counts.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
