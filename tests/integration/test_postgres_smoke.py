"""PostgreSQL of the local stack: both databases exist; their owner roles log in over TCP with passwords."""

from __future__ import annotations

import psycopg
import pytest

from election.config import Settings


def test_application_owner_creates_writes_and_drops_a_table(settings: Settings) -> None:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        conn.execute("CREATE TABLE smoke_test (id int PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO smoke_test VALUES (%s, %s), (%s, %s)", (1, "one", 2, "two"))
        rows = conn.execute("SELECT id, label FROM smoke_test ORDER BY id").fetchall()
        conn.execute("DROP TABLE smoke_test")
    assert rows == [(1, "one"), (2, "two")]
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        gone = conn.execute("SELECT to_regclass('smoke_test')").fetchone()
    assert gone == (None,)


def test_airflow_metadata_database_is_separate_and_migrated(settings: Settings) -> None:
    with psycopg.connect(settings.airflow_db.conninfo()) as conn:
        (db,) = conn.execute("SELECT current_database()").fetchone()
        migrated = conn.execute("SELECT to_regclass('dag_run')").fetchone()[0]
    assert db == settings.airflow_db.name != settings.election_db.name
    assert migrated == "dag_run"


def test_wrong_password_is_refused(settings: Settings) -> None:
    wrong = settings.election_db.with_role(settings.election_db.user, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong.conninfo(), connect_timeout=5)
