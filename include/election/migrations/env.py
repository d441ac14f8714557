"""Alembic's environment: migrations run on the connection the caller opened (see election.migrations)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through election.migrations.upgrade(), which passes a connection")

# One migrating process at a time: a second one waits here, then finds nothing left to do.
context.configure(connection=connection, transactional_ddl=True, transaction_per_migration=False)
with context.begin_transaction():
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('election_migrations'))")
    context.run_migrations()
