"""The single-node suite in two lanes, run at once by `tests/run.py` (ELECTION_TEST_LANE), so that one's waits (a
detector's threshold, a stream starting) are the other's running time:

- the *platform* lane: every test that uses the platform's own stream, Airflow's scheduler and components, or DAG runs
  (the fixtures in PLATFORM_FIXTURES, or the `platform` mark), and the faults of the stack (conftest.STACK_FAULTS);
- the *own* lane: every other test, each on elections, topics, jobs and databases of its own, then the tests that
  need no service at all (`tests/unit/`, `tests/dags/`), while the platform lane's faults mostly wait.

The faults that take away what every test needs (PostgreSQL killed, the whole stack stopped and started) hold the
stack exclusively: they wait for the own lane's running test to end, and its next waits for them (`stack_lock`). The
elections there before the session (a user's) are read once, before either lane made one (`users_elections`).

Without ELECTION_TEST_LANE (pytest run by hand) every test runs, one after the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

LANE = os.environ.get("ELECTION_TEST_LANE") or None
RUN = os.environ.get("ELECTION_TEST_RUN") or None  # one `make test`: both lanes share what they read once
PLATFORM_FIXTURES = frozenset({"stream", "api", "run_dag", "simulated_election", "two_elections"})


def lane_of(item: pytest.Item, is_fault: bool) -> str:
    if is_fault or item.get_closest_marker("platform") or PLATFORM_FIXTURES & set(item.fixturenames):
        return "platform"
    return "own"


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def stack_lock(run_dir: Path, *, exclusive: bool) -> Iterator[None]:
    """The stack held by one test of the own lane (shared) or by a fault that takes it away (exclusive). A turnstile
    in front makes a waiting fault go next: the own lane's tests cannot keep it waiting one after another."""
    turnstile, stack = run_dir / "tests.turnstile", run_dir / "tests.stack"
    if exclusive:
        with _flock(turnstile, fcntl.LOCK_EX), _flock(stack, fcntl.LOCK_EX):
            yield
        return
    with _flock(turnstile, fcntl.LOCK_EX):
        pass
    with _flock(stack, fcntl.LOCK_SH):
        yield


def once_per_run(run_dir: Path, name: str, compute: Callable[[], object]) -> object:
    """`compute()` once per `make test` run, whichever lane asks first; the same value for the other."""
    if RUN is None:
        return compute()
    with _flock(run_dir / "tests.once", fcntl.LOCK_EX):
        path = run_dir / f"tests-{name}.json"
        try:
            saved = json.loads(path.read_text())
            if saved["run"] == RUN:
                return saved["value"]
        except (FileNotFoundError, ValueError, KeyError):
            pass
        value = compute()
        path.write_text(json.dumps({"run": RUN, "value": value}))
        return value
