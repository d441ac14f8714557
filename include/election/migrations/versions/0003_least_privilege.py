"""Least privilege: the dashboard and the stream read views without personal data; every grant in a migration.

Revision ID: 0003_least_privilege
Revises: 0002_elections
"""

from __future__ import annotations

from election.migrations import run_sql

revision = "0003_least_privilege"
down_revision = "0002_elections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("migrations/0003_least_privilege.sql")


def downgrade() -> None:
    raise NotImplementedError("migrations go forward only: restore a backup to go back")
