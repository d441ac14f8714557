"""Reporting: per-state expected turnout and vote, polls that close state by state.

Revision ID: 0005_reporting
Revises: 0004_election_night
"""

from __future__ import annotations

from election.migrations import run_sql

revision = "0005_reporting"
down_revision = "0004_election_night"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("migrations/0005_reporting.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
