"""Where a test session's time went: each test's duration (set-up, call and tear-down together) and the phases a
session-wide fixture names (a stack's start and stop), written as JSON for `tests/run.py` when it asks
(ELECTION_TEST_REPORT), and printed at the end of the session."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

TESTS: dict[str, float] = {}
PHASES: dict[str, float] = {}
# A phase run inside a test's set-up or tear-down (a session fixture's stack) is the phase's time, not the test's.
_RUNNING: list[str] = []
_IN_PHASES: dict[str, float] = {}


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time a block that is no test's own (an engine started, a stack brought up or down)."""
    started = time.monotonic()
    try:
        yield
    finally:
        seconds = time.monotonic() - started
        PHASES[name] = PHASES.get(name, 0.0) + seconds
        if _RUNNING:
            _IN_PHASES[_RUNNING[-1]] = _IN_PHASES.get(_RUNNING[-1], 0.0) + seconds


def test_started(nodeid: str) -> None:
    _RUNNING[:] = [nodeid]


def add_test(nodeid: str, seconds: float) -> None:
    TESTS[nodeid] = TESTS.get(nodeid, 0.0) + seconds


def own_durations() -> dict[str, float]:
    """Each test's time without the phases that ran inside it."""
    return {nodeid: max(0.0, seconds - _IN_PHASES.get(nodeid, 0.0)) for nodeid, seconds in TESTS.items()}


def write_report() -> None:
    target = os.environ.get("ELECTION_TEST_REPORT")
    if target:
        Path(target).write_text(json.dumps({"tests": own_durations(), "phases": PHASES}))
