"""The schema's run-time steps beyond its SQL migrations: reference rows, the dashboard's role, a check."""

from __future__ import annotations

import psycopg

from election.regions import load_regions
from election.sql import read_sql, schema_files


def upsert_regions(conn: psycopg.Connection) -> int:
    """Write the reference table of regions; rows already equal are left untouched. Returns rows changed."""
    changed = 0
    with conn.transaction(), conn.cursor() as cur:
        for row in load_regions().to_dict("records"):
            cur.execute(read_sql("schema_steps/upsert_region.sql"), row)
            changed += cur.rowcount
    return changed


def grant_read_only(conn: psycopg.Connection, role: str, password: str) -> None:
    """Create or update a login role that may only read the election database."""
    with conn.transaction():
        conn.execute(read_sql("schema_steps/grant_read_only.sql"), {"role": role, "password": password})


def applied_migrations(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(read_sql("schema_steps/applied_migrations.sql")).fetchall()
    return [version for (version,) in rows]


def missing_migrations(conn: psycopg.Connection) -> list[str]:
    expected = [name.removeprefix("schema/").removesuffix(".sql") for name in schema_files()]
    return sorted(set(expected) - set(applied_migrations(conn)))
