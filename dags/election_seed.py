"""
# election_seed

Creates a **new election** on every run: parties, one candidate each, and registered voters — generated
offline (Faker pools and vectorised sampling, deterministic for a given `random_seed`), spread over the states by
population, checked by Great Expectations before the load and again, on the loaded rows, **before the load
commits**, then published to Kafka. The run's result (and its `load` and `publish` logs) gives the new
`election_id`.

| Task | What it does |
| --- | --- |
| `generate` | generates the frames and stages them as Parquet where every worker reads them (`ELECTION_SEED_STAGING_URL`, an `ObjectStoragePath`: a local folder by default, object storage in production); XCom carries only its URL |
| `validate_generated` | the expectation suites on the frames: ids unique, age ≥ 18 on election day, gender, state, e-mail, pictures, parties. **A failure loads nothing.** |
| `load` | one transaction: a new open election, `COPY` of its parties, candidates and voters, each state's expected turnout; then the same suites on the loaded rows plus row counts and referential integrity; **commits only if they pass** — an election that fails them is never visible |
| `publish` | the election's candidates → `candidates_topic`, voters → `voters_topic`, read from the tables just validated, keyed `<election_id>:<id>`, every delivery acknowledged |

**Parameters** (trigger form): `election_name` (optional; default: size, seed and time), `num_voters`
(1 … 5,000,000), `num_candidates` (2 … 12), `random_seed` (same seed, same voters and candidates), `turnout_min`
and `turnout_max` (each state's expected turnout is drawn between them, from the seed: the expected vote of
election night; default 55 % … 80 %).

**Retries** of the same run are idempotent: the run's election is found again, never created twice.
Other elections are left as they are: run it as often as you like.
"""

from __future__ import annotations

import logging

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, ELECTION_SEED, START_DATE
from election.domain import DEFAULT_TURNOUT_RANGE, MAX_CANDIDATES, MAX_VOTERS, MIN_CANDIDATES

log = logging.getLogger(__name__)
settings = get_settings()


def _staged(value: dict):
    from election.seeding.staging import StagedSeed

    return StagedSeed.from_xcom(value)


@dag(
    dag_id="election_seed",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "seed", "data-quality", "postgres", "kafka"],
    params={
        "election_name": Param(
            None, type=["null", "string"], maxLength=120, title="Election name (empty: size, seed and time)"
        ),
        "num_voters": Param(10_000, type="integer", minimum=1, maximum=MAX_VOTERS, title="Registered voters"),
        "num_candidates": Param(
            3, type="integer", minimum=MIN_CANDIDATES, maximum=MAX_CANDIDATES, title="Candidates (one per party)"
        ),
        "random_seed": Param(2026, type="integer", minimum=0, title="Random seed (same seed, same election)"),
        "turnout_min": Param(
            DEFAULT_TURNOUT_RANGE[0], type="number", minimum=0, maximum=1, title="Lowest expected turnout of a state"
        ),
        "turnout_max": Param(
            DEFAULT_TURNOUT_RANGE[1], type="number", minimum=0, maximum=1, title="Highest expected turnout of a state"
        ),
    },
)
def election_seed() -> None:
    @task
    def generate() -> dict:
        from election.seeding.pipeline import generate_step
        from election.seeding.staging import SeedRequest, staging_root

        params = get_current_context()["params"]
        try:
            request = SeedRequest(
                num_voters=params["num_voters"],
                num_candidates=params["num_candidates"],
                random_seed=params["random_seed"],
                election_date=settings.election_date,
                turnout_min=params["turnout_min"],
                turnout_max=params["turnout_max"],
            )
        except ValueError as error:  # parameters no retry can fix
            raise AirflowFailException(str(error)) from None
        staging = staging_root(settings.seed_staging_url, settings.seed_staging_conn_id)
        return generate_step(request, staging).as_xcom()

    @task(retries=0)  # a data-quality failure is deterministic: retrying cannot fix it
    def validate_generated(staged: dict) -> list[str]:
        from election.quality.validation import DataQualityError
        from election.seeding.pipeline import validate_generated_step

        try:
            return validate_generated_step(_staged(staged))
        except DataQualityError as error:
            raise AirflowFailException(str(error)) from None

    @task
    def load(staged: dict) -> int:
        from election.airflow_io import postgres_connection
        from election.quality.connection import LendableConnection
        from election.quality.validation import DataQualityError
        from election.seeding.pipeline import load_step

        context = get_current_context()
        seed = _staged(staged)
        request = seed.request
        name = context["params"].get("election_name") or (
            f"{request.num_voters:,} voters, seed {request.random_seed} "
            f"({context['dag_run'].run_after:%Y-%m-%d %H:%M} UTC)"
        )
        seed_run = f"{context['dag'].dag_id}/{context['run_id']}"
        try:
            with postgres_connection(connection_class=LendableConnection) as conn:
                result = load_step(conn, seed, name=name, seed_run=seed_run)
        except DataQualityError as error:  # rolled back: nothing of this election was ever visible
            raise AirflowFailException(str(error)) from None
        log.info("election_id=%d (%s)", result.election_id, name)
        return result.election_id

    @task(outlets=[ELECTION_SEED])
    def publish(staged: dict, election_id: int) -> int:
        from election.airflow_io import kafka_config, postgres_connection
        from election.kafka_io import reliable_producer
        from election.seeding.pipeline import publish_step
        from election.seeding.staging import discard

        with postgres_connection() as conn:
            producer = reliable_producer(kafka_config(settings.kafka_seed_conn_id))
            publish_step(conn, producer, election_id, settings.topics.candidates, settings.topics.voters)
        discard(_staged(staged))  # the tables hold the data now; a re-run regenerates the same frames if needed
        get_current_context()["outlet_events"][ELECTION_SEED].extra = {"election_id": election_id}
        log.info("election_id=%d is ready: trigger election_vote_simulation with it", election_id)
        return election_id

    staged = generate()
    election_id = load(staged)
    validate_generated(staged) >> election_id
    publish(staged, election_id)


election_seed()
