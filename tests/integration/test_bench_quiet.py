"""`make bench` measures a quiet machine: a running election stream is paused for the benchmarks and comes back
after (its @continuous schedule starts it again)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import support

from election.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from helpers.quiet import quiet_machine  # the benchmarks' helpers, as `make bench` imports them

pytestmark = pytest.mark.timeout(900)


def test_a_running_stream_is_paused_for_the_benchmarks_and_resumed_after(settings: Settings, api, stream) -> None:
    if not stream.owned:
        pytest.skip("the stream running is the user's: the tests do not stop it")
    said: list[str] = []
    with quiet_machine(settings, say=said.append, settle_seconds=0):  # the suite keeps the machine busy
        assert support.stream_processes() == [], "no stream competes with the benchmarks"
        assert api.running_runs("election_streaming") == [], "paused: the schedule starts nothing meanwhile"
    assert any("pausing it for the benchmarks" in line for line in said)
    stream.run_id = api.wait_for_running_run("election_streaming", timeout=120)
    api.wait_for_task("election_streaming", stream.run_id, "aggregate_votes", {"running"}, timeout=300)
    assert support.wait_for(support.stream_processes, 120, "the stream to run again")
