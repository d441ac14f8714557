"""`make test`: every part of the suite, each on the stack it needs, then where the time went.

The parts run in turn (two cores: never two stacks at once), each stack started before its part and stopped after
it; a part that fails does not stop the next. At the end one table says where the time went (set-up, each stack's
start and stop, each part's tests) beside each phase's budget, then the ten slowest tests, then one warning line
for each phase over its budget. The budget only warns: a noisy machine is no failure, and speed is for the
benchmarks to judge. Budgets are kept here, and nowhere else.

    python tests/run.py [--parts single,cluster,compose] [-- pytest arguments]

The single-node suite runs in two lanes at once (tests/integration/lanes.py); the tests that need no service run in
its own lane, beside the platform lane's faults, which mostly wait. `--parts check` runs them alone, on both cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

# Seconds each phase may take on the 2-core reference machine before a run says it overran (README: Tests); the
# whole of `make test` (set-up included, lint not) within TOTAL_BUDGET.
TOTAL_BUDGET = 20 * 60
BUDGETS: dict[str, float] = {
    "set-up (venv, jars, browser)": 90,
    "no-service tests": 90,  # `--parts check` alone
    "single-node stack: start": 60,
    "single-node suite": 570,
    "single-node stack: stop": 30,
    "cluster stack: start": 75,
    "cluster profile": 210,
    "cluster stack: stop": 45,
    "compose: engine start": 10,
    "compose: image builds (docker/build-images.sh --offline)": 60,
    "compose: up until every service is healthy": 90,
    "compose for real": 120,
    "compose: down -v, engine stopped": 30,
}


@dataclass(frozen=True)
class Part:
    name: str  # the phase of its tests
    profile: str | None  # the local stack it runs on (None: none, or it starts its own)
    marker: str
    stack: str = ""  # the name of its stack in the phases
    parallel: bool = False  # its tests on both cores (pytest-xdist), a test file per worker
    lanes: tuple[str, ...] = ()  # its tests in these lanes at once (tests/integration/lanes.py)

    def phases(self) -> tuple[str, ...]:
        return (f"{self.stack}: start", self.name, f"{self.stack}: stop") if self.profile else (self.name,)


PARTS = {
    # the no-service tests on both cores (`make check`); `make test` runs them in the single-node suite's own lane
    "check": Part("no-service tests", None, "not integration", parallel=True),
    "single": Part(
        "single-node suite",
        "single",
        "not cluster and not compose",
        "single-node stack",
        lanes=("platform", "own"),
    ),
    "cluster": Part("cluster profile", "cluster", "cluster", "cluster stack"),
    "compose": Part("compose for real", None, "compose"),
}


class Clock:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.tests: dict[str, float] = {}
        self.failed: list[str] = []

    def start(self, phase: str, command: list[str], env: dict[str, str], quiet: bool = False) -> Callable[[], bool]:
        """Start a command; a call that waits for it, records its time and says whether it succeeded. `quiet`: its
        output is held back until then (something else prints meanwhile)."""
        print(f"\n=== {phase}: {' '.join(command)}", flush=True)
        started = time.monotonic()
        held = tempfile.TemporaryFile() if quiet else None  # noqa: SIM115 - closed once the command ended
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=held, stderr=held)

        def finished() -> bool:
            code = process.wait()
            self.phases[phase] = self.phases.get(phase, 0.0) + time.monotonic() - started
            if held is not None:
                held.seek(0)
                print(f"\n=== {phase}: its output\n{held.read().decode(errors='replace')}", end="", flush=True)
                held.close()
            if code != 0:
                self.failed.append(f"{phase} (exit code {code})")
            return code == 0

        return finished

    def run(self, phase: str, command: list[str], env: dict[str, str]) -> bool:
        return self.start(phase, command, env)()


STACK = [sys.executable, "-m", "localstack"]


def _environment(part: Part) -> dict[str, str]:
    return {**os.environ, **({"ELECTION_STACK_PROFILE": part.profile} if part.profile else {})}


def run_tests(clock: Clock, part: Part, pytest_args: list[str]) -> None:
    pytest = [sys.executable, "-m", "pytest", "-m", part.marker, *pytest_args]
    if part.parallel:
        pytest += ["-n", "2", "--dist", "loadfile"]
    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        if not part.lanes:
            report = Path(scratch) / "report.json"
            clock.run(part.name, pytest, {**_environment(part), "ELECTION_TEST_REPORT": str(report)})
            reports = [report]
        else:
            # every lane at once; the first one's output shown as it goes, the others' after it
            run, reports, waits = uuid.uuid4().hex, [], []
            for number, lane in enumerate(part.lanes):
                report = Path(scratch) / f"{lane}.json"
                env = {
                    **_environment(part),
                    "ELECTION_TEST_REPORT": str(report),
                    "ELECTION_TEST_LANE": lane,
                    "ELECTION_TEST_RUN": run,
                }
                waits.append(clock.start(f"{part.name}: {lane} lane", pytest, env, quiet=number > 0))
                reports.append(report)
            for wait in waits:
                wait()
        found_phases: dict[str, float] = {}
        for report in reports:
            if report.exists():
                found = json.loads(report.read_text())
                clock.tests.update(found["tests"])
                found_phases.update(found["phases"])
        # the phases a session fixture timed (Compose's engine, builds, up and down) are its stack's, not tests'
        clock.phases[part.name] = max(0.0, time.monotonic() - started - sum(found_phases.values()))
        clock.phases.update(found_phases)


def run_part(clock: Clock, part: Part, pytest_args: list[str], beside: Part | None = None) -> None:
    """A part's stack started, its tests, its stack stopped; `beside`: a part with no stack whose tests run while
    this part's stack starts."""
    env = _environment(part)
    if part.profile:
        started = clock.start(f"{part.stack}: start", [*STACK, "up"], env, quiet=beside is not None)
        if beside is not None:
            run_tests(clock, beside, pytest_args)
        if not started():
            clock.run(f"{part.stack}: stop", [*STACK, "down"], env)
            return
    elif beside is not None:
        run_tests(clock, beside, pytest_args)
    run_tests(clock, part, pytest_args)
    if part.profile:
        clock.run(f"{part.stack}: stop", [*STACK, "down"], env)


def report(clock: Clock, setup: float | None, wall: float) -> None:
    console = Console(width=120, highlight=False)
    phases = {**({"set-up (venv, jars, browser)": setup} if setup is not None else {}), **clock.phases}
    table = Table(title="make test: where the time went", title_justify="left")
    table.add_column("phase")
    table.add_column("took", justify="right")
    table.add_column("budget", justify="right")
    table.add_column("", justify="left")
    over = []
    for name, seconds in phases.items():
        budget = BUDGETS.get(name)
        flag = ""
        if budget is not None and seconds > budget:
            flag = "over"
            over.append(f"{name} took {_clock(seconds)}, over its budget of {_clock(budget)}")
        table.add_row(name, _clock(seconds), _clock(budget) if budget else "-", flag)
    # the wall clock: the no-service tests run while a stack starts, so the phases overlap
    total = wall + (setup or 0.0)
    table.add_row("total", _clock(total), _clock(TOTAL_BUDGET), "over" if total > TOTAL_BUDGET else "", style="bold")
    if total > TOTAL_BUDGET:
        over.append(f"the whole run took {_clock(total)}, over its budget of {_clock(TOTAL_BUDGET)}")
    console.print(table)
    slowest = Table(title="the 10 slowest tests", title_justify="left")
    slowest.add_column("test")
    slowest.add_column("took", justify="right")
    for nodeid, seconds in sorted(clock.tests.items(), key=lambda item: -item[1])[:10]:
        slowest.add_row(nodeid, _clock(seconds))
    console.print(slowest)
    console.print(f"{len(clock.tests)} tests timed")
    for line in over:
        console.print(f"warning: {line} (BUDGETS in tests/run.py)")
    for failed in clock.failed:
        console.print(f"FAILED: {failed}")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="single,cluster,compose", help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to each pytest run (after --)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.parts.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}: choose of {', '.join(PARTS)}")
    pytest_args = [arg for arg in args.pytest_args if arg != "--"]
    # `make` notes when it began (ELECTION_TEST_STARTED): what passed before this started was the set-up.
    began = os.environ.get("ELECTION_TEST_STARTED")
    setup = time.time() - float(began) if began else None
    clock = Clock()
    began_tests = time.monotonic()
    waiting: Part | None = None  # a part with no stack, run beside the next part's stack start
    for name in chosen:
        part = PARTS[name]
        if part.profile is None and part.parallel:
            waiting = part
            continue
        run_part(clock, part, pytest_args, beside=waiting)
        waiting = None
    if waiting is not None:
        run_tests(clock, waiting, pytest_args)
    report(clock, setup, time.monotonic() - began_tests)
    return 1 if clock.failed else 0


if __name__ == "__main__":
    sys.exit(main())
