"""PostgreSQL's least privilege, tried as an intruder would: the dashboard's and the stream's roles read only views
with no personal data and no link between a voter and a candidate; the application's role cannot create roles; no
reader reaches Airflow's database."""

from __future__ import annotations

import psycopg
import pytest
import support

from election.config import Settings

PERSONAL = (
    "voter_name",
    "date_of_birth",
    "email",
    "phone_number",
    "cell_number",
    "address_street",
    "registration_number",
    "address_postcode",
    "picture",
)


@pytest.fixture(scope="module")
def election(settings: Settings, tmp_path_factory) -> int:
    election_id = support.new_election(settings, 50, 2, 101, staging=tmp_path_factory.mktemp("seed"))
    with support.connect(settings) as conn:
        voter, candidate = support.a_voter_and_candidate(conn, election_id)
        conn.execute(
            "INSERT INTO votes (election_id, voter_id, candidate_id) VALUES (%s, %s, %s)",
            (election_id, voter, candidate),
        )
    return election_id


def _as(settings: Settings, role: str) -> psycopg.Connection:
    db = {"dashboard": settings.dashboard_db, "stream": settings.stream_db}[role]
    return psycopg.connect(db.conninfo(), autocommit=True)


@pytest.mark.parametrize("role", ["dashboard", "stream"])
@pytest.mark.parametrize(
    "query",
    [
        "SELECT voter_name, date_of_birth, email FROM public.voters LIMIT 1",
        "SELECT voter_id, candidate_id FROM public.votes LIMIT 1",
        "SELECT * FROM public.elections LIMIT 1",
        "SELECT * FROM public.vote_outbox LIMIT 1",
        "INSERT INTO public.regions (state_code) VALUES ('ZZ')",
        "CREATE TABLE results.intruder (id int)",
        "CREATE TABLE public.intruder (id int)",
    ],
)
def test_readers_are_refused_the_tables(settings: Settings, election: int, role: str, query: str) -> None:
    with _as(settings, role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(query)


def test_the_dashboard_is_refused_the_voter_roll(settings: Settings, election: int) -> None:
    with _as(settings, "dashboard") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM registry.voter_roll LIMIT 1")


@pytest.mark.parametrize("role", ["dashboard", "stream"])
def test_readers_read_results_with_no_person_in_them(settings: Settings, election: int, role: str) -> None:
    with _as(settings, role) as conn:
        assert conn.execute(
            "SELECT votes FROM results.votes_recorded WHERE election_id = %s", (election,)
        ).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM results.candidates WHERE election_id = %s", (election,)).fetchone()
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema IN ('results', 'registry')"
            )
        }
    assert columns.isdisjoint(PERSONAL)
    assert not {"voter_id", "candidate_id"} <= _columns_of(settings, "results", "votes_recorded")


def _columns_of(settings: Settings, schema: str, view: str) -> set[str]:
    with support.connect(settings) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, view),
        ).fetchall()
    return {name for (name,) in rows}


def test_the_stream_reads_the_roll_without_personal_data(settings: Settings, election: int) -> None:
    with _as(settings, "stream") as conn:
        cursor = conn.execute("SELECT * FROM registry.voter_roll WHERE election_id = %s", (election,))
        assert [c.name for c in cursor.description] == ["election_id", "voter_id", "registered_state", "gender", "age"]
        assert len(cursor.fetchall()) == 50


def test_the_application_role_cannot_create_roles(settings: Settings) -> None:
    with support.connect(settings, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("CREATE ROLE intruder LOGIN PASSWORD 'x'")


@pytest.mark.parametrize("role", ["dashboard", "stream"])
def test_readers_cannot_reach_airflows_database(settings: Settings, role: str) -> None:
    db = {"dashboard": settings.dashboard_db, "stream": settings.stream_db}[role]
    other = db.with_role(db.user, db.password)
    airflow = type(other)(other.host, other.port, settings.airflow_db.name, other.user, other.password)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(airflow.conninfo(), connect_timeout=5)
