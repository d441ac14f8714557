"""election_schema and election_seed, run in-process (`dag.test()`) against the real PostgreSQL and Kafka: the
schema migrated once, a new election per seed run, retries that create nothing twice, and data-quality gates that
keep a bad election from ever being visible."""

from __future__ import annotations

import json
import uuid

import psycopg
import pyarrow as pa
import pytest
import support

from election import elections
from election.config import Settings
from election.quality import suites
from election.quality.connection import LendableConnection
from election.quality.validation import DataQualityError
from election.seeding.load import load_seed
from election.seeding.pipeline import generate_step, load_step
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
    UNION ALL SELECT format('revision %s', version_num) FROM alembic_version
) AS schema(line)
"""


def _task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _elections(settings: Settings) -> list[elections.Election]:
    with support.connect(settings) as conn:
        return elections.all_elections(conn)


def _made_by(settings: Settings, *, seed_run: str | None = None, name: str | None = None) -> list[elections.Election]:
    """The elections one load or seed run made (by its seed run, or its name): what a test finds of its own, with
    other tests making elections at the same time (tests/integration/lanes.py). Removed at the session's end."""
    made = [
        e
        for e in _elections(settings)
        if (seed_run is None or e.seed_run == seed_run) and (name is None or e.name == name)
    ]
    support.CREATED.extend(e.election_id for e in made)
    return made


def _counts(settings: Settings, election_id: int) -> tuple[int, int, int]:
    with support.connect(settings) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM parties WHERE election_id = %(e)s),"
            " (SELECT count(*) FROM candidates WHERE election_id = %(e)s),"
            " (SELECT count(*) FROM voters WHERE election_id = %(e)s)",
            {"e": election_id},
        ).fetchone()


def test_schema_dag_migrates_and_a_second_run_changes_nothing(settings: Settings, run_dag) -> None:
    assert run_dag("election_schema").state == "success"
    with support.connect(settings) as conn:
        before = conn.execute(SCHEMA_FINGERPRINT).fetchone()[0]
        regions = conn.execute("SELECT count(*) FROM regions").fetchone()[0]
    assert regions == 51
    for table in ("elections", "parties", "candidates", "voters", "votes", "vote_outbox", "certified_results"):
        assert f"column {table}." in before

    assert run_dag("election_schema").state == "success"
    with support.connect(settings) as conn:
        after = conn.execute(SCHEMA_FINGERPRINT).fetchone()[0]
    assert after == before


def test_every_seed_run_creates_a_new_election_and_publishes_it(settings: Settings, run_dag) -> None:
    voters_from = support.end_offsets(settings, settings.topics.voters)
    candidates_from = support.end_offsets(settings, settings.topics.candidates)

    run = run_dag("election_seed", election_name="seed test", num_voters=3_000, num_candidates=4, random_seed=7)
    assert run.state == "success", _task_states(run)
    again = run_dag("election_seed", election_name=None, num_voters=3_000, num_candidates=4, random_seed=7)
    assert again.state == "success", _task_states(again)

    made = [_made_by(settings, seed_run=f"election_seed/{r.run_id}") for r in (run, again)]
    assert [len(m) for m in made] == [1, 1], "two runs, two elections, even with the same parameters"
    (first,), (second,) = made
    created = [first, second]
    assert first.election_id != second.election_id
    assert first.name == "seed test"
    assert "3,000 voters, seed 7" in second.name
    for election in created:
        assert _counts(settings, election.election_id) == (4, 4, 3_000)
        assert election.status == "open"
        assert election.published_at is not None
    assert (first.seed_run, second.seed_run) == (f"election_seed/{run.run_id}", f"election_seed/{again.run_id}")

    # Every voter of the first election published once, keyed <election_id>:<voter_id>, with the table's columns.
    with support.connect(settings) as conn:
        voter_ids = sorted(
            f"{first.election_id}:{v}"
            for (v,) in conn.execute("SELECT voter_id FROM voters WHERE election_id = %s", (first.election_id,))
        )
    voters = support.read_since(settings, settings.topics.voters, voters_from)
    mine = sorted(key for key, _ in voters if key.startswith(f"{first.election_id}:"))
    assert mine == voter_ids
    record = json.loads(next(value for key, value in voters if key.startswith(f"{first.election_id}:")))
    assert record["election_id"] == first.election_id
    assert {"voter_name", "date_of_birth", "gender", "address_state", "email", "picture"} <= set(record)
    assert record["address_postcode"].isdigit()
    assert len(record["address_postcode"]) == 5
    candidates = support.read_since(settings, settings.topics.candidates, candidates_from)
    assert len([k for k, _ in candidates if k.startswith(f"{first.election_id}:")]) == 4
    assert {"candidate_name", "party", "party_affiliation", "photo_url"} <= set(json.loads(candidates[0][1]))
    # where the election's voters sit on each partition, for its caster
    spans = first.voter_offsets
    assert spans
    assert sum(last - first_offset + 1 for first_offset, last in spans.values()) >= 3_000


def test_a_retry_of_the_same_run_creates_no_second_election(settings: Settings, tmp_path) -> None:
    staged = generate_step(SeedRequest(500, 2, 3, settings.election_date), tmp_path)
    with LendableConnection.connect(settings.election_db.conninfo()) as conn:
        first = load_step(conn, staged, name="retry test", seed_run="election_seed/retry-test-run")
        retry = load_step(conn, staged, name="retry test", seed_run="election_seed/retry-test-run")
    support.CREATED.append(first.election_id)
    assert first.loaded
    assert not retry.loaded
    assert retry.election_id == first.election_id
    assert _counts(settings, first.election_id) == (2, 2, 500)


def test_a_defect_found_after_the_load_leaves_no_election_behind(settings: Settings, tmp_path) -> None:
    """The post-load checks run inside the load's transaction: the loaded rows fail them (a row lost between the
    generated frame's checks and the load), and nothing of the election was ever visible."""
    request = SeedRequest(2_000, 3, 22, settings.election_date)
    staged = generate_step(request, tmp_path)
    voters = staged.table("voters")
    staged.write("voters", voters.slice(0, voters.num_rows - 1))  # 1,999 of 2,000 voters

    seen_by_others: list[int] = []
    with LendableConnection.connect(settings.election_db.conninfo()) as conn, support.connect(settings) as other:

        def check(loading, election_id):
            # while the checks run, another session does not see the election
            seen_by_others.append(
                other.execute("SELECT count(*) FROM elections WHERE election_id = %s", (election_id,)).fetchone()[0]
            )
            from election.seeding.pipeline import validate_loaded

            validate_loaded(conn, request)

        with pytest.raises(DataQualityError) as failure:
            load_seed(conn, staged, name="defect test", seed_run="election_seed/defect-test", check=check)
    assert "expect_table_row_count_to_equal" in str(failure.value)
    assert "observed 1999" in str(failure.value)
    assert seen_by_others == [0]
    assert _made_by(settings, seed_run="election_seed/defect-test") == []


def test_a_defect_planted_in_the_loaded_rows_fails_the_suites_with_a_summary(settings: Settings, tmp_path) -> None:
    """An e-mail the database accepts but the voters suite refuses, planted past the generated frame's checks."""
    request = SeedRequest(1_500, 3, 23, settings.election_date)
    staged = generate_step(request, tmp_path)
    voters = staged.table("voters")
    emails = voters["email"].to_pylist()
    emails[0] = "not-an-email"
    index = voters.schema.get_field_index("email")
    staged.write("voters", voters.set_column(index, "email", pa.array(emails)))
    with LendableConnection.connect(settings.election_db.conninfo()) as conn, pytest.raises(DataQualityError) as error:
        load_step(conn, staged, name="planted defect", seed_run="election_seed/planted-defect")
    summary = str(error.value)
    assert "expect_column_values_to_match_regex on column 'email': 1 of 1,500 rows fail" in summary
    assert "not-an-email" in summary
    assert _made_by(settings, seed_run="election_seed/planted-defect") == []


# A value breaking each rule the checks after the load leave to the tables' constraints (suites.ENFORCED_BY_TABLE),
# planted in row 0 of the staged frame (DUPLICATE: row 1's value). A rule added there without a value here fails.
DUPLICATE = object()
OUTSIDE_THE_RULE = {
    ("expect_column_values_to_be_unique", "party_id"): DUPLICATE,
    ("expect_column_values_to_be_unique", "party_name"): DUPLICATE,
    ("expect_column_values_to_be_unique", "candidate_id"): DUPLICATE,
    ("expect_column_values_to_be_unique", "voter_id"): DUPLICATE,
    ("expect_column_values_to_be_unique", "registration_number"): DUPLICATE,
    ("expect_column_values_to_match_regex", "color"): "red",
    ("expect_column_values_to_be_in_set", "party_id"): 99,
    ("expect_column_values_to_be_in_set", "gender"): "unknown",
    ("expect_column_values_to_be_in_set", "address_state"): "XX",
}
LEFT_TO_CONSTRAINTS = [
    (table, rule, constraint)
    for table, rules in suites.ENFORCED_BY_TABLE.items()
    for rule, constraint in rules.items()
    if constraint != suites.NOT_NULL
]


def test_the_rules_left_to_not_null_columns_are_declared_so(settings: Settings) -> None:
    declared = [
        (table, column)
        for table, rules in suites.ENFORCED_BY_TABLE.items()
        for (_, column), constraint in rules.items()
        if constraint == suites.NOT_NULL
    ]
    with support.connect(settings) as conn:
        nullable = [
            (table, column)
            for table, column in declared
            if not conn.execute(
                "SELECT attnotnull FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s", (table, column)
            ).fetchone()[0]
        ]
    assert len(declared) > 20
    assert nullable == []


@pytest.mark.parametrize(
    ("table", "rule", "constraint"), LEFT_TO_CONSTRAINTS, ids=[f"{t}.{r[1]} {r[0]}" for t, r, _ in LEFT_TO_CONSTRAINTS]
)
def test_a_row_breaking_a_rule_left_to_a_constraint_is_refused_by_it(
    settings: Settings, tmp_path, table: str, rule: tuple[str, str], constraint: str
) -> None:
    """The checks after the load skip this rule because the table refuses any row that breaks it: planted past
    the generated frame's checks, such a row fails the load on exactly that constraint, and no election is left.
    A key's rule holds per election: the constraint's columns are the election and the checked column."""
    column = rule[1]
    with support.connect(settings) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
                " ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
                " WHERE c.conrelid = %s::regclass AND c.conname = %s",
                (table, constraint),
            )
        }
    if rule[0] == "expect_column_values_to_be_unique":
        assert columns == {"election_id", column}
    else:
        assert column in columns

    request = SeedRequest(300, 3, 24, settings.election_date)
    staged = generate_step(request, tmp_path)
    frame = staged.table(table)
    values = frame[column].to_pylist()
    planted = OUTSIDE_THE_RULE[rule]
    values[0] = values[1] if planted is DUPLICATE else planted
    index = frame.schema.get_field_index(column)
    staged.write(table, frame.set_column(index, column, pa.array(values, frame.schema.field(index).type)))
    seed_run = f"election_seed/constraint-{table}-{column}-{uuid.uuid4().hex[:8]}"
    with (
        LendableConnection.connect(settings.election_db.conninfo()) as conn,
        pytest.raises(psycopg.errors.IntegrityError) as refused,
    ):
        load_step(conn, staged, name="constraint test", seed_run=seed_run)
    assert refused.value.diag.constraint_name == constraint
    assert _made_by(settings, seed_run=seed_run) == []


def test_a_defect_in_the_generated_frame_loads_nothing(settings: Settings, run_dag, capfd) -> None:
    request = SeedRequest(2_000, 3, 21, settings.election_date)
    staged = generate_step(request, settings.seed_staging_dir)
    voters = staged.table("voters")
    minor = settings.election_date.replace(year=settings.election_date.year - 16)
    index = voters.schema.get_field_index("date_of_birth")
    patched = voters["date_of_birth"].to_pylist()
    patched[10] = minor
    staged.write("voters", voters.set_column(index, "date_of_birth", pa.array(patched, pa.date32())))
    try:
        run = run_dag("election_seed", num_voters=2_000, num_candidates=3, random_seed=21)
    finally:
        from election.seeding.staging import discard

        discard(staged)
    states = _task_states(run)
    assert states["validate_generated"] == "failed"
    assert states["load"] == "upstream_failed"
    assert _made_by(settings, seed_run=f"election_seed/{run.run_id}") == []
    assert "age_on_election_day': 1 of 2,000 rows fail" in capfd.readouterr().out


def test_a_load_that_fails_midway_leaves_nothing_behind(settings: Settings, tmp_path) -> None:
    """A row the database rejects in the last COPY batch rolls back everything loaded before it, election included."""
    staged = generate_step(SeedRequest(250_000, 3, 5, settings.election_date), tmp_path)
    voters = staged.table("voters")
    states = voters["address_state"].to_pylist()
    states[-1] = "ZZ"  # no such region: the foreign key refuses it, after 249,999 good rows
    index = voters.schema.get_field_index("address_state")
    staged.write("voters", voters.set_column(index, "address_state", pa.array(states)))
    name = f"midway failure {uuid.uuid4().hex[:8]}"
    with (
        LendableConnection.connect(settings.election_db.conninfo()) as conn,
        pytest.raises(psycopg.errors.ForeignKeyViolation),
    ):
        load_seed(conn, staged, name=name)
    assert _made_by(settings, name=name) == []
