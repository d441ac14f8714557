"""Alembic migrations on databases of their own: an installation made before elections existed (today's schema, one
election loaded and voted) is upgraded in place with every vote kept; a new database gets the same schema; each
migration applies once."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from election import migrations
from election.config import Database, Settings, get_settings
from election.sql import read_sql
from localstack.postgres import Postgres

LEGACY = "migrations/0001_legacy_schema/{}.sql"
READERS = migrations.Readers(dashboard=get_settings().dashboard_db_user, stream=get_settings().stream_db_user)

SCHEMA_FINGERPRINT = """
SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
    SELECT format('column %s.%s %s %s', table_name, column_name, data_type, is_nullable)
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT format('trigger %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
) AS schema(line)
"""


def legacy_installation(db: Database) -> None:
    """Today's single-election schema, as election_schema applied it, holding one election with votes, one of them
    still in the outbox (a caster killed before Kafka acknowledged it)."""
    with psycopg.connect(db.conninfo()) as conn:
        for name in migrations.LEGACY_FILES:
            conn.execute(read_sql(LEGACY.format(name)))
        conn.execute(
            "INSERT INTO regions VALUES ('CA', 'California', 36.7, -119.4, 39538223, 4, 0),"
            " ('NY', 'New York', 42.9, -75.5, 20201249, 2, 9)"
        )
        conn.execute("INSERT INTO parties VALUES (1, 'Blue', '#1f77b4'), (2, 'Red', '#d62728')")
        conn.execute(
            "INSERT INTO candidates VALUES"
            " ('00000000-0000-4000-8000-000000000001', 'Ann Blue', 1, 'b', 'p', 'avatars/candidates/a.svg'),"
            " ('00000000-0000-4000-8000-000000000002', 'Bea Red', 2, 'b', 'p', 'avatars/candidates/b.svg')"
        )
        for i in range(1, 7):
            conn.execute(
                "INSERT INTO voters VALUES (%s, %s, '1980-01-01', 'female', 'US', %s, '1 Main St', 'Town', %s, 'US',"
                " '00001', 'a@example.com', NULL, NULL, 'avatars/voters/v.svg', 3)",
                (f"10000000-0000-4000-8000-00000000000{i}", f"Voter {i}", f"VR{i}", "CA" if i <= 4 else "NY"),
            )
        for i, candidate in ((1, 1), (2, 2), (3, 1), (5, 2)):
            conn.execute(
                "INSERT INTO votes (voter_id, candidate_id) VALUES (%s, %s)",
                (f"10000000-0000-4000-8000-00000000000{i}", f"00000000-0000-4000-8000-00000000000{candidate}"),
            )
        conn.execute("INSERT INTO vote_outbox (voter_ids) VALUES (ARRAY['10000000-0000-4000-8000-000000000005'::uuid])")
        conn.execute(
            "INSERT INTO election_registry (random_seed, num_voters, num_candidates, election_date, published_at)"
            " VALUES (21, 6, 2, '2026-11-03', now())"
        )


def _url(db: Database) -> str:
    return db.sqlalchemy_url("psycopg")


def test_an_installation_from_before_elections_is_upgraded_in_place(database: Database) -> None:
    legacy_installation(database)
    with psycopg.connect(database.conninfo()) as conn:
        votes_before = conn.execute("SELECT voter_id, candidate_id, voting_time FROM votes ORDER BY 1").fetchall()

    assert migrations.upgrade_database(_url(database), READERS) == (None, migrations.head())

    with psycopg.connect(database.conninfo()) as conn:
        assert conn.execute(
            "SELECT election_id, name, status, random_seed, num_voters, num_candidates FROM elections"
        ).fetchall() == [(1, "Election of 2026-11-03 (seed 21)", "open", 21, 6, 2)]
        kept = conn.execute("SELECT voter_id, candidate_id, voting_time FROM votes ORDER BY 1").fetchall()
        assert kept == votes_before, "every vote kept"
        assert conn.execute("SELECT DISTINCT election_id FROM votes").fetchall() == [(1,)]
        assert conn.execute("SELECT count(*) FROM voters WHERE election_id = 1").fetchone() == (6,)
        assert dict(
            conn.execute("SELECT state_code, registered_voters FROM registered_voters_per_state").fetchall()
        ) == {"CA": 4, "NY": 2}
        # the pending outbox row is kept; every vote recorded before is queued to be published in the new format
        queued = conn.execute("SELECT count(*), sum(cardinality(voter_ids)) FROM vote_outbox").fetchone()
        assert queued == (2, 1 + len(votes_before))
        for gone in ("election_registry", "schema_migrations"):
            assert conn.execute("SELECT to_regclass(%s)", (gone,)).fetchone() == (None,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (migrations.head(),)
        # the upgraded election behaves like any other: one vote per voter, refused once closed
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO votes (election_id, voter_id, candidate_id)"
                " VALUES (1, '10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002')"
            )


def test_each_migration_applies_once_and_both_paths_give_one_schema(settings: Settings, database: Database) -> None:
    legacy_installation(database)
    migrations.upgrade_database(_url(database), READERS)
    assert migrations.upgrade_database(_url(database), READERS) == (migrations.head(), migrations.head())

    fresh_name = f"{database.name}_fresh"
    with Postgres(settings).superuser_connect() as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(fresh_name), sql.Identifier(database.user))
        )
    fresh = Database(database.host, database.port, fresh_name, database.user, database.password)
    try:
        assert migrations.upgrade_database(_url(fresh), READERS) == (None, migrations.head())
        fingerprints = []
        for db in (database, fresh):
            with psycopg.connect(db.conninfo()) as conn:
                fingerprints.append(conn.execute(SCHEMA_FINGERPRINT).fetchone()[0])
        assert fingerprints[0] == fingerprints[1], "an upgraded installation and a new one have the same schema"
        with psycopg.connect(fresh.conninfo()) as conn:
            assert conn.execute("SELECT count(*) FROM elections").fetchone() == (0,)
    finally:
        with Postgres(settings).superuser_connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(fresh_name)))
