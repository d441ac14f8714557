"""election_streaming on the local stack: the scheduler starts the stream, its log shows progress, its output
topics update as votes arrive, and marking the task failed stops the driver with no orphan JVM left."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest
from confluent_kafka import Producer
from support import (
    airflow_api,
    end_offsets,
    read_since,
    reset_streaming_state,
    seed_election,
    stream_processes,
)

from election.config import Settings
from election.records import encode_vote

pytestmark = pytest.mark.timeout(900)


def _votes(settings: Settings, count: int) -> list[tuple[str, bytes]]:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        candidate = conn.execute(
            "SELECT candidate_id::text, candidate_name, party_name, photo_url FROM candidates JOIN parties"
            " USING (party_id) ORDER BY party_id LIMIT 1"
        ).fetchone()
        voters = conn.execute(
            "SELECT voter_id::text, address_state, gender FROM voters ORDER BY voter_id LIMIT %s", (count,)
        ).fetchall()
    now = dt.datetime.now(dt.UTC)
    return [
        (
            voter,
            encode_vote(
                voter_id=voter,
                candidate_id=candidate[0],
                candidate_name=candidate[1],
                party=candidate[2],
                photo_url=candidate[3],
                address_state=state,
                gender=gender,
                age=40,
                voting_time=now,
            ),
        )
        for voter, state, gender in voters
    ]


def test_the_dag_runs_the_stream_and_stopping_it_leaves_no_driver(settings: Settings) -> None:
    seed_election(settings, voters=500, candidates=3, random_seed=12)
    reset_streaming_state(settings)
    assert stream_processes() == []
    api = airflow_api(settings)
    api.wait_for_dags(["election_streaming"])
    api.unpause("election_streaming")
    run_id = api.trigger("election_streaming")
    try:
        api.wait_for_task("election_streaming", run_id, "aggregate_votes", {"running"}, timeout=300)
        output_from = end_offsets(settings, settings.topics.votes_per_candidate)
        producer = Producer(settings.kafka_client_config(acks="all"))
        for key, value in _votes(settings, 40):
            producer.produce(settings.topics.votes, key=key, value=value)
        assert producer.flush(30) == 0

        deadline = time.monotonic() + 300
        while not (records := read_since(settings, settings.topics.votes_per_candidate, output_from)):
            assert time.monotonic() < deadline, "no aggregate within 5 minutes of the votes"
            time.sleep(2)
        assert '"total_votes":40' in records[-1][1].decode()
        # The progress line of that batch reaches the task log (what a user watches in the UI) shortly after.
        deadline = time.monotonic() + 60
        while "[progress] vote_aggregation batch=" not in api.task_log("election_streaming", run_id, "aggregate_votes"):
            assert time.monotonic() < deadline, "no progress line in the task log"
            time.sleep(2)
        assert stream_processes(), "the driver runs while the task does"
    finally:
        api.mark_task("election_streaming", run_id, "aggregate_votes", "failed")
    assert api.wait_for_run("election_streaming", run_id, timeout=120) == "failed"
    deadline = time.monotonic() + 60
    while stream_processes() and time.monotonic() < deadline:
        time.sleep(1)
    assert stream_processes() == [], "marking the task failed must stop spark-submit and the Python driver"
    api.pause("election_streaming")
