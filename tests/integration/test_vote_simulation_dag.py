"""election_vote_simulation's sensors: they fail with a message saying what to do when there are no voters or
no stream (short timeouts), and the whole DAG runs on the local stack once the stream is up."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import psycopg
import pytest
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred
from support import (
    airflow_api,
    create_topics,
    delete_topics,
    read_all,
    reset_platform,
    seed_and_publish,
    stream_processes,
)

from election.config import Settings
from election.kafka_io import produce_all, reliable_producer

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def empty_topic(settings: Settings):
    name = f"test_empty_{uuid.uuid4().hex[:8]}"
    create_topics(settings, {name: 1})
    yield name
    delete_topics(settings, [name])


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _first_event(trigger, timeout: float):
    """Runs a trigger as the triggerer does, for at most `timeout` seconds: its first event, or None."""

    async def first():
        async for event in trigger.run():
            return event
        return None

    async def bounded():
        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            return None

    try:
        return asyncio.run(bounded())
    finally:
        # leave the sensors' consumer group: a member that stops polling holds up the next one's rebalance
        consumer = getattr(trigger, "_consumer", None)
        if consumer is not None:
            consumer.close()


def test_no_voters_fails_with_run_election_seed_first(dag_bag, empty_topic: str) -> None:
    """The sensor defers to the triggerer; on an empty topic its trigger never fires, and when the deferral
    times out (the scheduler then resumes the task with Airflow's timeout signal) the task fails saying what to
    do. dag.test() runs triggers inline without their timeout, so the two halves are driven here."""
    sensor = dag_bag.get_dag("election_vote_simulation").get_task("wait_for_voters")
    sensor.topics = [empty_topic]
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    assert _first_event(deferred.value.trigger, timeout=5) is None
    with pytest.raises(AirflowSensorTimeout, match="no voters: run election_seed first"):
        sensor.resume_execution(TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, context={})


def test_voters_sensor_fires_on_the_first_well_formed_voter(dag_bag, empty_topic: str, settings: Settings) -> None:
    voter_id = str(uuid.uuid4())
    produce_all(
        reliable_producer(settings.kafka_client_config()),
        empty_topic,
        [("bad", b"not json"), (voter_id, json.dumps({"voter_id": voter_id, "address_state": "CA"}).encode())],
    )
    sensor = dag_bag.get_dag("election_vote_simulation").get_task("wait_for_voters")
    sensor.topics = [empty_topic]
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    event = _first_event(deferred.value.trigger, timeout=120)
    assert event is not None
    assert event.payload == voter_id


def test_no_stream_fails_with_trigger_election_streaming(dag_bag, empty_topic: str, capfd) -> None:
    dag = dag_bag.get_dag("election_vote_simulation")
    sensor = dag.get_task("wait_for_stream")
    sensor.topic, sensor.timeout, sensor.poke_interval, sensor.mode = empty_topic, 3, 1, "poke"
    run = dag.test()
    assert _states(run)["wait_for_stream"] == "failed"
    assert "stream not running: trigger election_streaming" in capfd.readouterr().out


def test_the_dag_casts_votes_on_the_stack_once_the_stream_is_up(settings: Settings) -> None:
    """Through the scheduler and the triggerer, as a user triggers it from the UI."""
    reset_platform(settings)
    seed_and_publish(settings, voters=2_000, candidates=3, random_seed=34, voters_topic=settings.topics.voters)
    api = airflow_api(settings)
    api.wait_for_dags(["election_streaming", "election_vote_simulation"])
    for dag_id in ("election_streaming", "election_vote_simulation"):
        api.fail_unfinished_runs(dag_id, note="left over by an interrupted test")
        api.unpause(dag_id)
    stream_run = api.trigger("election_streaming")
    try:
        api.wait_for_task("election_streaming", stream_run, "aggregate_votes", {"running"}, timeout=300)
        run = api.trigger("election_vote_simulation", {"turnout": 0.5, "random_seed": 3})
        assert api.wait_for_run("election_vote_simulation", run, timeout=600) == "success"
        log = api.task_log("election_vote_simulation", run, "cast_votes")
        assert "1,000 votes cast" in log
        with psycopg.connect(settings.election_db.conninfo()) as conn:
            assert conn.execute("SELECT count(*) FROM votes").fetchone() == (1_000,)
        assert len(read_all(settings, settings.topics.votes)) == 1_000
    finally:
        api.mark_task("election_streaming", stream_run, "aggregate_votes", "failed")
        for dag_id in ("election_streaming", "election_vote_simulation"):
            api.pause(dag_id)
    deadline = time.monotonic() + 60
    while stream_processes() and time.monotonic() < deadline:
        time.sleep(1)
