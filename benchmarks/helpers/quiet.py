"""A quiet machine for the benchmarks: the platform's own vote stream paused for the run, or a plain warning.

`election_streaming` is `@continuous`: once unpaused, a stream runs all the time, and on two cores it takes much
of what the benchmarks measure. For the run, `quiet_machine` pauses the DAG and stops its running stream (as a
user does: pause, then mark the task success); afterwards it unpauses the DAG and the schedule starts the stream
again, from its checkpoints (no vote lost, none counted twice). Other load it cannot stop is reported: the figures
of a busy machine are printed, but said to be so.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import psutil

from election.config import Settings
from election.demo import connect

STREAM_DAG = "election_streaming"
STREAM_TASK = "aggregate_votes"


def _stream_processes(settings: Settings) -> list[psutil.Process]:
    """The platform's stream (its job on the platform's checkpoint), not a job a benchmark or test runs itself."""
    checkpoint = str(settings.checkpoint_dir)
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.NoSuchProcess):
            cmdline = proc.info["cmdline"] or []
            if any("vote_aggregation.py" in part for part in cmdline) and checkpoint in cmdline:
                found.append(proc)
    return found


def busy_note(threshold: float = 0.5) -> str | None:
    """What else loads the machine: the 1-minute load average per core above `threshold`, said plainly."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load / cores <= threshold:
        return None
    return f"the machine is busy (load {load:.1f} on {cores} cores) with something the benchmarks did not start"


def settle(timeout: float, say=print, interval: float = 5.0) -> str | None:
    """Wait (up to `timeout` s) for the load a start leaves behind to fade (a stack just started, a stream just
    stopped: the 1-minute load average takes a minute or two); what still loads the machine after it, or None."""
    deadline = time.monotonic() + timeout
    note = busy_note()
    if note:
        say(f"[bench] {note}: waiting up to {timeout:.0f} s for it to settle")
    while note and time.monotonic() < deadline:
        time.sleep(interval)
        note = busy_note()
    return note


@contextlib.contextmanager
def quiet_machine(settings: Settings, say=print, settle_seconds: float = 180) -> Iterator[None]:
    api = connect(settings)
    running = api.running_runs(STREAM_DAG)
    paused = bool(running)
    if running:
        say(f"[bench] the election stream is running ({', '.join(running)}): pausing it for the benchmarks")
        api.pause(STREAM_DAG)
        for run_id in running:
            if api.task_state(STREAM_DAG, run_id, STREAM_TASK) == "running":
                api.mark_task(STREAM_DAG, run_id, STREAM_TASK, "success")
            api.wait_for_run(STREAM_DAG, run_id, timeout=180)
        deadline = time.monotonic() + 60
        while _stream_processes(settings) and time.monotonic() < deadline:
            time.sleep(1)
        if _stream_processes(settings):
            raise RuntimeError("the election stream's processes did not stop: benchmarks not run")
    if note := settle(settle_seconds, say):
        say(f"[bench] warning: {note}; the figures below are low for that reason")
    try:
        yield
    finally:
        if paused:
            api.unpause(STREAM_DAG)
            say("[bench] the election stream is unpaused again: its schedule starts it from its checkpoints")
