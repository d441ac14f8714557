"""election_streaming on the local stack: the scheduler runs the stream, its log shows progress and the elections
it counts, and marking the task failed stops the driver with no orphan JVM left (on a stream this session started:
a stream the user runs is never stopped by the tests)."""

from __future__ import annotations

import psutil
import pytest
import support
from conftest import drained, stream_counts

from election.config import Settings
from election.heartbeat import stream_heartbeat

pytestmark = pytest.mark.timeout(900)


def test_the_stream_counts_an_election_and_logs_its_progress(settings: Settings, api, stream, tmp_path) -> None:
    # The run the schedule keeps going now, and live: an earlier test restarted the whole stack under the session's
    # stream, which Airflow then resets (orphaned) and runs again.
    stream.run_id = api.wait_for_running_run("election_streaming", timeout=300)
    support.wait_for(
        lambda: (
            (beat := stream_heartbeat(settings.kafka_client_config(), settings.topics.stream_heartbeat))
            and beat.age < 30
        ),
        420,
        "the stream's heartbeat to be fresh",
    )
    election_id = support.new_published_election(settings, 500, 3, 71, staging=tmp_path)
    stream_counts(settings, election_id)
    support.cast(settings, election_id, turnout=0.2, random_seed=4)
    assert sum(drained(settings, election_id).values()) == 100
    log = support.wait_for(
        lambda: (
            (text := api.task_log("election_streaming", stream.run_id, "aggregate_votes"))
            and "[progress] vote_aggregation batch=" in text
            and text
        ),
        60,
        "a progress line in the task log",
    )
    assert "[stream] counting" in log
    assert support.stream_processes(), "the driver runs while the task does"


def test_marking_the_task_failed_leaves_no_driver(settings: Settings, api, stream) -> None:
    """The session's last test (conftest.STACK_FAULTS): the stream stays stopped, as the session's end leaves it."""
    if not stream.owned:
        pytest.skip("the stream running is the user's: the tests do not stop it")
    stream.run_id = api.wait_for_running_run("election_streaming", timeout=300)
    api.wait_for_task("election_streaming", stream.run_id, "aggregate_votes", {"running"}, timeout=300)
    api.pause("election_streaming")  # how a user stops it: no new run
    api.mark_task("election_streaming", stream.run_id, "aggregate_votes", "failed")
    assert api.wait_for_run("election_streaming", stream.run_id, timeout=120) == "failed"
    support.wait_for(lambda: not support.stream_processes(), 60, "the stream's processes to end")
    assert api.running_runs("election_streaming") == [], "paused: nothing starts it again"


def _driver(not_these: set[int]) -> psutil.Process | None:
    """The stream's JVM (spark-submit's driver), other than the ones already killed."""
    for proc in support.stream_processes():
        try:
            if "java" in proc.name() and proc.pid not in not_these and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except psutil.NoSuchProcess:
            pass
    return None


def test_a_stream_killed_more_often_than_its_retries_comes_back_by_itself(
    settings: Settings, api, stream, dag_bag, tmp_path
) -> None:
    """The driver killed (SIGKILL) once per try, one more time than the retries allow: the run fails, its
    @continuous schedule starts a new one with no one asking, every fall is alerted in the task's log, and the
    totals come out exact."""
    if not stream.owned:
        pytest.skip("the stream running is the user's: the tests do not kill it")
    election_id = support.new_published_election(settings, 600, 3, 72, staging=tmp_path)
    stream_counts(settings, election_id)
    support.cast(settings, election_id, turnout=1.0, max_votes=300, random_seed=6)
    retries = dag_bag.get_dag("election_streaming").get_task("aggregate_votes").retries
    first, killed = stream.run_id, set()
    for attempt in range(1, retries + 2):
        api.wait_for_task("election_streaming", first, "aggregate_votes", {"running"}, timeout=300)
        driver = support.wait_for(lambda: _driver(killed), 180, f"the driver of try {attempt}")
        killed.add(driver.pid)
        driver.kill()
        if attempt <= retries:
            support.wait_for(
                lambda: api.task_state("election_streaming", first, "aggregate_votes") != "running",
                120,
                "the task to notice its driver died",
            )
    assert api.wait_for_run("election_streaming", first, timeout=300) == "failed"
    assert "[alert] the vote stream went down" in api.task_log("election_streaming", first, "aggregate_votes", 1)
    stream.run_id = support.wait_for(
        lambda: next((r for r in api.running_runs("election_streaming") if r != first), None),
        120,
        "a new run, started by the schedule",
    )
    api.wait_for_task("election_streaming", stream.run_id, "aggregate_votes", {"running"}, timeout=300)
    support.cast(settings, election_id, turnout=1.0, random_seed=6)  # the other 300, after the falls
    assert len(support.votes_in_postgres(settings, election_id)) == 600
    assert sum(drained(settings, election_id, timeout=300).values()) == 600, "every voter counted once"
