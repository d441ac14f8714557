"""Election night: electoral votes, expected turnout, when each vote was recorded, certified race calls.

Revision ID: 0004_election_night
Revises: 0003_least_privilege
"""

from __future__ import annotations

from election.migrations import run_sql

revision = "0004_election_night"
down_revision = "0003_least_privilege"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("migrations/0004_election_night.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
