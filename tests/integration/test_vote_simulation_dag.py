"""election_vote_simulation: its sensors fail with a message saying what to do when the election has no voters yet
or no stream counts it (short timeouts), and the whole DAG casts an election's votes on the local stack."""

from __future__ import annotations

import pytest
import support
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout
from conftest import drained

from election.config import Settings

pytestmark = pytest.mark.timeout(900)


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_an_unpublished_election_fails_with_run_election_seed_first(settings: Settings, dag_bag, tmp_path) -> None:
    election_id = support.new_election(settings, 30, 2, 61, staging=tmp_path)  # loaded, never published
    sensor = dag_bag.get_dag("election_vote_simulation").get_task("wait_for_voters")
    sensor.election_id, sensor.timeout, sensor.poke_interval = election_id, 3, 1
    assert sensor.poke(context={}) is False
    with pytest.raises(AirflowSensorTimeout, match="no voters: run election_seed first"):
        sensor.execute(context={})


def test_a_closed_election_fails_at_once(settings: Settings, dag_bag, tmp_path) -> None:
    election_id = support.new_election(settings, 30, 2, 62, staging=tmp_path)
    support.close_election(settings, election_id)
    sensor = dag_bag.get_dag("election_vote_simulation").get_task("wait_for_voters")
    sensor.election_id = election_id
    with pytest.raises(AirflowFailException, match=f"election {election_id} .* accepts no more votes"):
        sensor.poke(context={})


def test_no_stream_fails_with_trigger_election_streaming(settings: Settings, dag_bag) -> None:
    with support.scratch_topics(settings, "sensor") as (_, topics):
        sensor = dag_bag.get_dag("election_vote_simulation").get_task("wait_for_stream")
        sensor.topic, sensor.election_id, sensor.timeout, sensor.poke_interval = topics.stream_heartbeat, 1, 3, 1
        with pytest.raises(AirflowSensorTimeout, match="stream not running: trigger election_streaming"):
            sensor.execute(context={})


def test_the_dag_casts_an_elections_votes_on_the_stack(settings: Settings, api, simulated_election) -> None:
    """Through the scheduler and the triggerer, as a user triggers it from the UI, for the election named (the run is
    conftest's simulated_election)."""
    election_id, run = simulated_election.election_id, simulated_election.run_id
    log = api.task_log("election_vote_simulation", run, "cast_votes")
    assert "1,000 votes cast" in log
    assert "ERROR" not in log.upper().replace("0 ERRORS", ""), "librdkafka's warnings are not errors"
    assert len(support.votes_in_postgres(settings, election_id)) == 1_000
    assert sum(drained(settings, election_id).values()) == 1_000

    again = api.trigger("election_vote_simulation", {"election_id": election_id, "turnout": 0.5, "random_seed": 3})
    assert api.wait_for_run("election_vote_simulation", again, timeout=600) == "success"
    assert "0 votes cast" in api.task_log("election_vote_simulation", again, "cast_votes"), "a no-op"
    assert len(support.votes_in_postgres(settings, election_id)) == 1_000
