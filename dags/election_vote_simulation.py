"""
# election_vote_simulation

Simulates the vote of **one election** (`election_id`; empty: the newest open election): every registered voter
either abstains or votes, for a candidate drawn from a seeded distribution with regional preferences. Votes go
into PostgreSQL (`votes`: **one vote per voter and election, enforced by the primary key**; refused once the
election is closed) and, once committed, to `votes_topic` for the streaming job.

| Task | What it does |
| --- | --- |
| `resolve_election` | the election to simulate: the one named, or the newest open one; fails if it is not open |
| `wait_for_voters` | until the election's voters are all published (its `election_seed` run finished); times out with *"no voters: run election_seed first"* |
| `wait_for_stream` | until the streaming job's heartbeat is fresh and says it counts this election; times out with *"stream not running: trigger election_streaming"* |
| `cast_votes` | reads the election's voters from `voters_topic` in the election's own consumer group and casts the votes, logging votes cast, votes/s and remaining |

**Parameters** (trigger form): `election_id`, `turnout` (empty, the default: each state votes exactly its
expected vote, round(registered × the expected turnout the seed drew for it); a share: the same turnout
everywhere, exactly round(N × turnout) votes shared between the states by largest remainder), `max_votes` (optional cap for this run), `votes_per_second` (0 = as fast as
possible; e.g. 200 makes the dashboard move visibly), `random_seed`, `candidate_weights` (optional national
split, one weight per candidate in party order), `regional_variation` (how much states differ, 0 … 2), `reporting_order` (`random`: voters in their topic's order, every
state at once; `east_to_west`: waves by time zone, eastern states first, each wave's **polls closing** once its
votes are recorded and published, so its states can be called on the votes they hold while the west still
votes).

**Crash-safe**, per election: each batch of votes and its outbox row are one transaction; the outbox row is
deleted only after Kafka acknowledged every vote; the election's consumer offsets are committed only then.
Killed at any moment and re-run, the DAG re-publishes what was recorded but not acknowledged and never records a
second vote for anyone. A re-run for an election already fully voted is a no-op. Simulate elections one after
the other; the stream counts them all.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, START_DATE
from election.domain import REPORTING_ORDERS
from election.sensors import ElectionPublishedSensor, StreamLiveSensor

log = logging.getLogger(__name__)
settings = get_settings()


@dag(
    dag_id="election_vote_simulation",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # one caster at a time: an election's batches and offsets are committed in order
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "simulation", "kafka", "postgres"],
    params={
        "election_id": Param(None, type=["null", "integer"], minimum=1, title="Election (empty: the newest open one)"),
        "turnout": Param(
            None,
            type=["null", "number"],
            minimum=0,
            maximum=1,
            title="Turnout, the same in every state (empty: each state's seeded expected turnout)",
        ),
        "max_votes": Param(None, type=["null", "integer"], minimum=0, title="Maximum votes in this run (empty: all)"),
        "votes_per_second": Param(0, type="number", minimum=0, title="Votes per second (0: as fast as possible)"),
        "random_seed": Param(2026, type="integer", minimum=0, title="Random seed"),
        "candidate_weights": Param(
            None,
            type=["null", "array"],
            items={"type": "number", "minimum": 0},
            title="National split, one weight per candidate in party order (empty: seeded)",
        ),
        "regional_variation": Param(0.35, type="number", minimum=0, maximum=2, title="How much states differ"),
        "reporting_order": Param(
            "random",
            type="string",
            enum=list(REPORTING_ORDERS),
            title="How votes arrive: random, or east_to_west (waves by time zone, polls closing as they go)",
        ),
    },
)
def election_vote_simulation() -> None:
    @task
    def resolve_election() -> int:
        from election import elections
        from election.airflow_io import postgres_connection

        with postgres_connection() as conn:
            election = elections.resolve(conn, get_current_context()["params"].get("election_id"))
        if not election.is_open:
            raise AirflowFailException(f"{election.describe()} accepts no more votes")
        log.info("simulating %s", election.describe())
        return election.election_id

    election_id = resolve_election()
    wait_for_voters = ElectionPublishedSensor(
        task_id="wait_for_voters",
        election_id=election_id,
        mode="poke",  # not reschedule: apache/airflow#71172 can fail a rescheduled sensor
        poke_interval=5,
        timeout=dt.timedelta(minutes=10),
        timeout_message="no voters: run election_seed first",
        retries=0,
    )
    wait_for_stream = StreamLiveSensor(
        task_id="wait_for_stream",
        kafka_conn_id=settings.kafka_conn_id,
        topic=settings.topics.stream_heartbeat,
        max_age=settings.heartbeat_max_age,
        election_id=election_id,
        # poke, not reschedule: Airflow 3.3 can fail a rescheduled sensor on a late executor event
        # (apache/airflow#71172); the poke is one cheap Kafka read every 5 s.
        mode="poke",
        poke_interval=5,
        timeout=dt.timedelta(minutes=10),
        timeout_message="stream not running: trigger election_streaming",
        retries=0,
    )

    # Crash-safe by design (outbox, offsets committed last): retried patiently, e.g. through a database restart.
    @task(retries=4, retry_delay=dt.timedelta(seconds=15), retry_exponential_backoff=True)
    def cast_votes(election_id: int) -> dict:
        from election.airflow_io import kafka_config, postgres_connection
        from election.voting.caster import CastRequest, cast_election

        params = get_current_context()["params"]
        weights = params.get("candidate_weights")
        request = CastRequest(
            election_id=election_id,
            turnout=None if params.get("turnout") is None else float(params["turnout"]),
            max_votes=params.get("max_votes"),
            votes_per_second=float(params["votes_per_second"]),
            random_seed=int(params["random_seed"]),
            candidate_weights=tuple(weights) if weights else None,
            regional_variation=float(params["regional_variation"]),
            reporting_order=str(params["reporting_order"]),
        )
        try:
            report = cast_election(
                postgres_connection,
                kafka_config(settings.kafka_caster_conn_id),
                request,
                voters_topic=settings.topics.voters,
                votes_topic=settings.topics.votes,
                group_prefix=settings.vote_caster_group,
            )
        except ValueError as error:  # e.g. no expected turnout to cast with: no retry can fix it
            raise AirflowFailException(str(error)) from None
        return {
            "election_id": election_id,
            "votes_cast": report.votes_cast,
            "votes_per_second": round(report.votes_per_second),
            "bad_messages": report.bad_messages,
            "already_voted": report.already_voted,
            "republished": report.republished,
        }

    [wait_for_voters, wait_for_stream] >> cast_votes(election_id)


election_vote_simulation()
