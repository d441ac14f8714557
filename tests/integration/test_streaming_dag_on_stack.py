"""election_streaming on the local stack: the scheduler runs the stream, its log shows progress and the elections
it counts, and marking the task failed stops the driver with no orphan JVM left (on a stream this session started:
a stream the user runs is never stopped by the tests)."""

from __future__ import annotations

import pytest
import support
from conftest import drained, start_stream, stream_counts

from election.config import Settings

pytestmark = pytest.mark.timeout(900)


def test_the_stream_counts_an_election_and_logs_its_progress(settings: Settings, api, stream, tmp_path) -> None:
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
    if not stream.owned:
        pytest.skip("the stream running is the user's: the tests do not stop it")
    api.mark_task("election_streaming", stream.run_id, "aggregate_votes", "failed")
    assert api.wait_for_run("election_streaming", stream.run_id, timeout=120) == "failed"
    support.wait_for(lambda: not support.stream_processes(), 60, "the stream's processes to end")
    stream.run_id = start_stream(api)  # the rest of the session has its stream again
