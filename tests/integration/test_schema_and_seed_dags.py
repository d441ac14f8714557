"""election_schema and election_seed, run in-process (`dag.test()`) against the real PostgreSQL and Kafka."""

from __future__ import annotations

import json

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import end_offsets, read_since, reset_election_data

from election.config import Settings
from election.seeding.load import load_seed
from election.seeding.pipeline import generate_step
from election.seeding.staging import SeedRequest

pytestmark = pytest.mark.timeout(600)

SCHEMA_FINGERPRINT = """
SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
    SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default)
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT format('region %s xmin %s', state_code, xmin) FROM regions
    UNION ALL SELECT format('migration %s %s', version, applied_at) FROM schema_migrations
) AS schema(line)
"""


def _db(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.election_db.conninfo(), autocommit=True)


def _counts(settings: Settings) -> tuple[int, int, int, int]:
    with _db(settings) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM parties), (SELECT count(*) FROM candidates),"
            " (SELECT count(*) FROM voters), (SELECT count(*) FROM election_registry)"
        ).fetchone()


def _task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_schema_dag_creates_the_schema_and_a_second_run_changes_nothing(settings: Settings, run_dag) -> None:
    assert run_dag("election_schema").state == "success"
    with _db(settings) as conn:
        before = conn.execute(SCHEMA_FINGERPRINT).fetchone()[0]
        regions = conn.execute("SELECT count(*) FROM regions").fetchone()[0]
    assert regions == 51
    for table in ("parties", "candidates", "voters", "votes", "election_registry"):
        assert f"column {table}." in before

    assert run_dag("election_schema").state == "success"
    with _db(settings) as conn:
        after = conn.execute(SCHEMA_FINGERPRINT).fetchone()[0]
    assert after == before


def test_one_vote_per_voter_is_enforced_by_the_database(settings: Settings) -> None:
    with _db(settings) as conn:
        constraints = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'votes'::regclass"
        ).fetchall()
    assert ("PRIMARY KEY (voter_id)",) in constraints


def test_dashboard_role_can_only_read(settings: Settings) -> None:
    with psycopg.connect(settings.dashboard_db.conninfo(), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM regions").fetchone() == (51,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO parties VALUES (99, 'Intruders', '#000000')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE dashboard_was_here (id int)")


@pytest.fixture
def empty_election(settings: Settings) -> None:
    reset_election_data(settings)


def test_seed_loads_and_publishes_exactly_the_params_and_a_rerun_is_a_noop(
    settings: Settings, run_dag, empty_election
) -> None:
    voters_from = end_offsets(settings, settings.topics.voters)
    candidates_from = end_offsets(settings, settings.topics.candidates)

    run = run_dag("election_seed", num_voters=3_000, num_candidates=4, random_seed=7)
    assert run.state == "success", _task_states(run)
    assert _counts(settings) == (4, 4, 3_000, 1)

    # Every voter in the table was published once, keyed by its id, with the table's columns.
    with _db(settings) as conn:
        voter_ids = sorted(str(v) for (v,) in conn.execute("SELECT voter_id FROM voters").fetchall())
        candidate_ids = sorted(str(c) for (c,) in conn.execute("SELECT candidate_id FROM candidates").fetchall())
    voters = read_since(settings, settings.topics.voters, voters_from)
    assert sorted(key for key, _ in voters) == voter_ids
    record = json.loads(voters[0][1])
    assert record["voter_id"] == voters[0][0]
    assert {"voter_name", "date_of_birth", "gender", "address_state", "email", "picture"} <= set(record)
    candidates = read_since(settings, settings.topics.candidates, candidates_from)
    assert sorted(key for key, _ in candidates) == candidate_ids
    assert {"candidate_name", "party", "photo_url"} <= set(json.loads(candidates[0][1]))

    voters_from = end_offsets(settings, settings.topics.voters)
    rerun = run_dag("election_seed", num_voters=3_000, num_candidates=4, random_seed=7)
    assert rerun.state == "success", _task_states(rerun)
    assert _counts(settings) == (4, 4, 3_000, 1)
    assert read_since(settings, settings.topics.voters, voters_from) == []


def test_other_params_than_the_loaded_election_are_refused(settings: Settings, run_dag, capfd) -> None:
    before = _counts(settings)
    assert before[2] > 0, "runs after the seed test: an election is loaded"
    run = run_dag("election_seed", num_voters=500, num_candidates=2, random_seed=8)
    assert run.state == "failed"
    assert _task_states(run)["load"] == "failed"
    assert _counts(settings) == before
    assert "the database already holds another election" in capfd.readouterr().out


def test_a_defect_planted_in_the_voters_table_fails_post_load_validation(settings: Settings, run_dag, capfd) -> None:
    with _db(settings) as conn:
        conn.execute(
            "UPDATE voters SET email = 'not-an-email'"
            " WHERE voter_id = (SELECT voter_id FROM voters ORDER BY voter_id LIMIT 1)"
        )
    run = run_dag("election_seed", num_voters=3_000, num_candidates=4, random_seed=7)
    states = _task_states(run)
    assert run.state == "failed"
    assert states["validate_loaded"] == "failed"
    assert states["publish"] == "upstream_failed"
    log = capfd.readouterr().out
    assert "expect_column_values_to_match_regex on column 'email': 1 of 3,000 rows fail" in log
    assert "not-an-email" in log


def test_a_defect_in_the_generated_frame_loads_nothing(settings: Settings, run_dag, empty_election, capfd) -> None:
    request = SeedRequest(2_000, 3, 21, settings.election_date)
    staged = generate_step(request, settings.seed_staging_dir)
    voters = pq.read_table(staged.path("voters"))
    minor = pa.array([settings.election_date.replace(year=settings.election_date.year - 16)], pa.date32())
    index = voters.schema.get_field_index("date_of_birth")
    patched = voters["date_of_birth"].to_pylist()
    patched[10] = minor[0].as_py()
    pq.write_table(voters.set_column(index, "date_of_birth", pa.array(patched, pa.date32())), staged.path("voters"))

    run = run_dag("election_seed", num_voters=2_000, num_candidates=3, random_seed=21)
    states = _task_states(run)
    assert states["validate_generated"] == "failed"
    assert states["load"] == "upstream_failed"
    assert _counts(settings) == (0, 0, 0, 0)
    assert "age_on_election_day': 1 of 2,000 rows fail" in capfd.readouterr().out


def test_a_load_that_fails_midway_leaves_nothing_behind(settings: Settings, empty_election) -> None:
    """A row the database rejects in the last COPY batch rolls back everything loaded before it."""
    request = SeedRequest(250_000, 3, 5, settings.election_date)
    staged = generate_step(request, settings.seed_staging_dir)
    voters = pq.read_table(staged.path("voters"))
    states = voters["address_state"].to_pylist()
    states[-1] = "ZZ"  # no such region: the foreign key refuses it, after 249,999 good rows
    index = voters.schema.get_field_index("address_state")
    pq.write_table(voters.set_column(index, "address_state", pa.array(states)), staged.path("voters"))

    with (
        psycopg.connect(settings.election_db.conninfo()) as conn,
        pytest.raises(psycopg.errors.ForeignKeyViolation),
    ):
        load_seed(conn, staged)
    assert _counts(settings) == (0, 0, 0, 0)
