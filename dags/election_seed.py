"""
# election_seed

Seeds the election: parties, one candidate each, and registered voters — generated offline (Faker pools and
vectorised sampling, deterministic for a given `random_seed`), spread over the states by population,
checked by Great Expectations before and after the load, then published to Kafka.

| Task | What it does |
| --- | --- |
| `generate` | generates the frames and stages them as Parquet (`ELECTION_SEED_STAGING_DIR`) |
| `validate_generated` | the expectation suites on the frames: ids unique, age ≥ 18 on election day, gender, state, e-mail, pictures, parties. **A failure loads nothing.** |
| `load` | one transaction: `COPY` parties, candidates, voters; registers the run |
| `validate_loaded` | the same suites on the tables, plus row counts and referential integrity |
| `publish` | candidates → `candidates_topic`, voters → `voters_topic`, keyed by id, every delivery acknowledged |

**Parameters** (trigger form): `num_voters` (1 … 5,000,000), `num_candidates` (2 … 12), `random_seed`.

**Re-running** with the same parameters is a no-op: nothing is loaded or published twice. A run with other
parameters than the ones already loaded fails with a message: one election per database.

Scheduled on the `election_schema` Asset; also triggerable on its own.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, ELECTION_SCHEMA, ELECTION_SEED, START_DATE

settings = get_settings()


def _staged(value: dict):
    from election.seeding.staging import StagedSeed

    return StagedSeed.from_xcom(value)


@dag(
    dag_id="election_seed",
    schedule=ELECTION_SCHEMA,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "seed", "data-quality", "postgres", "kafka"],
    params={
        "num_voters": Param(10_000, type="integer", minimum=1, maximum=5_000_000, title="Registered voters"),
        "num_candidates": Param(3, type="integer", minimum=2, maximum=12, title="Candidates (one per party)"),
        "random_seed": Param(2026, type="integer", minimum=0, title="Random seed (same seed, same election)"),
    },
)
def election_seed() -> None:
    @task
    def generate() -> dict:
        from election.seeding.pipeline import generate_step
        from election.seeding.staging import SeedRequest

        params = get_current_context()["params"]
        request = SeedRequest(
            num_voters=params["num_voters"],
            num_candidates=params["num_candidates"],
            random_seed=params["random_seed"],
            election_date=settings.election_date,
        )
        return generate_step(request, settings.seed_staging_dir).as_xcom()

    @task(retries=0)  # a data-quality failure is deterministic: retrying cannot fix it
    def validate_generated(staged: dict) -> list[str]:
        from election.quality.validation import DataQualityError
        from election.seeding.pipeline import validate_generated_step

        try:
            return validate_generated_step(_staged(staged))
        except DataQualityError as error:
            raise AirflowFailException(str(error)) from None

    @task
    def load(staged: dict) -> dict:
        from election.airflow_io import postgres_connection
        from election.seeding.load import SeedConflictError
        from election.seeding.pipeline import load_step

        try:
            with postgres_connection() as conn:
                result = load_step(conn, _staged(staged))
        except SeedConflictError as error:
            raise AirflowFailException(str(error)) from None
        return {"loaded": result.loaded, "rows": result.rows, "message": result.message}

    @task(retries=0)
    def validate_loaded(staged: dict) -> list[str]:
        from election.airflow_io import postgres_connection, postgres_sqlalchemy_url
        from election.quality.validation import DataQualityError
        from election.seeding.pipeline import validate_loaded_step

        try:
            with postgres_connection() as conn:
                return validate_loaded_step(conn, postgres_sqlalchemy_url(), _staged(staged).request)
        except DataQualityError as error:
            raise AirflowFailException(str(error)) from None

    @task(outlets=[ELECTION_SEED])
    def publish(staged: dict) -> dict:
        from election.airflow_io import kafka_config, postgres_connection
        from election.kafka_io import reliable_producer
        from election.seeding.pipeline import publish_step
        from election.seeding.staging import discard

        seed = _staged(staged)
        with postgres_connection() as conn:
            result = publish_step(
                conn, reliable_producer(kafka_config()), seed, settings.topics.candidates, settings.topics.voters
            )
        discard(seed)  # the tables hold the data now; a re-run regenerates the same frames if needed
        return {"published": result.published, "candidates": result.candidates, "voters": result.voters}

    staged = generate()
    loaded = load(staged)
    validate_generated(staged) >> loaded
    published = publish(staged)
    loaded >> validate_loaded(staged) >> published


election_seed()
