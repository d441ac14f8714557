"""
# election_vote_simulation

Simulates the vote: every registered voter on `voters_topic` either abstains or votes, for a candidate drawn
from a seeded distribution with regional preferences. Votes go into PostgreSQL (`votes`: **one vote per voter,
enforced by the primary key**) and, once committed, to `votes_topic` for the streaming job.

| Task | What it does |
| --- | --- |
| `wait_for_voters` | deferred on the triggerer (Kafka provider's `AwaitMessageSensor`) until a voter record is on `voters_topic`; times out with *"no voters: run election_seed first"* |
| `wait_for_stream` | until the streaming job's heartbeat is fresh; times out with *"stream not running: trigger election_streaming"* |
| `cast_votes` | reads `voters_topic` in its own consumer group and casts the votes, logging votes cast, votes/s and remaining |

**Parameters** (trigger form): `turnout` (share of registered voters who vote, default 0.7: exactly
round(N × turnout) vote), `max_votes` (optional cap for this run), `votes_per_second` (0 = as fast as possible;
e.g. 200 makes the dashboard move visibly), `random_seed`, `candidate_weights` (optional national split, one
weight per candidate in party order), `regional_variation` (how much states differ, 0 … 2).

**Crash-safe**: each batch of votes and its outbox row are one transaction; the outbox row is deleted only
after Kafka acknowledged every vote; consumer offsets are committed only then. Killed at any moment and re-run,
the DAG re-publishes what was recorded but not acknowledged and never records a second vote for anyone. A
re-run after a complete run is a no-op.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, START_DATE
from election.sensors import StreamLiveSensor, VotersAvailableSensor

settings = get_settings()


@dag(
    dag_id="election_vote_simulation",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # one caster at a time: batches and offsets are committed in order
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "simulation", "kafka", "postgres"],
    params={
        "turnout": Param(0.7, type="number", minimum=0, maximum=1, title="Turnout (share of registered voters)"),
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
    },
)
def election_vote_simulation() -> None:
    wait_for_voters = VotersAvailableSensor(
        task_id="wait_for_voters",
        kafka_config_id=settings.kafka_conn_id,
        topics=[settings.topics.voters],
        commit_offset=False,  # only looks: every run finds the voters again
        poll_interval=1,
        timeout=dt.timedelta(minutes=10),
        timeout_message="no voters: run election_seed first",
        retries=0,
    )
    wait_for_stream = StreamLiveSensor(
        task_id="wait_for_stream",
        kafka_conn_id=settings.kafka_conn_id,
        topic=settings.topics.stream_heartbeat,
        max_age=settings.heartbeat_max_age,
        # poke, not reschedule: Airflow 3.3 can fail a rescheduled sensor on a late executor event
        # (apache/airflow#71172); the poke is one cheap Kafka read every 5 s.
        mode="poke",
        poke_interval=5,
        timeout=dt.timedelta(minutes=10),
        timeout_message="stream not running: trigger election_streaming",
        retries=0,
    )

    @task
    def cast_votes() -> dict:
        from election.airflow_io import kafka_config, postgres_connection
        from election.kafka_io import reliable_producer
        from election.voting.caster import CastRequest, VoteCaster, caster_consumer, load_electorate

        params = get_current_context()["params"]
        weights = params.get("candidate_weights")
        request = CastRequest(
            turnout=float(params["turnout"]),
            max_votes=params.get("max_votes"),
            votes_per_second=float(params["votes_per_second"]),
            random_seed=int(params["random_seed"]),
            candidate_weights=tuple(weights) if weights else None,
            regional_variation=float(params["regional_variation"]),
        )
        consumer = caster_consumer(kafka_config(), settings.vote_caster_group)
        try:
            with postgres_connection() as conn:
                electorate = load_electorate(conn, request)
            caster = VoteCaster(
                postgres_connection,
                consumer,
                reliable_producer(kafka_config()),
                voters_topic=settings.topics.voters,
                votes_topic=settings.topics.votes,
                request=request,
            )
            report = caster.run(electorate)
        finally:
            consumer.close()
        return {
            "votes_cast": report.votes_cast,
            "votes_per_second": round(report.votes_per_second),
            "bad_messages": report.bad_messages,
            "already_voted": report.already_voted,
            "republished": report.republished,
        }

    [wait_for_voters, wait_for_stream] >> cast_votes()


election_vote_simulation()
