"""Where a benchmark's cores went: the CPU each named party used over a period, in cores (CPU seconds per second),
beside the whole machine's, whose cores they all share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

# A process's identity: pids are reused, (pid, start time) are not.
ProcessKey = tuple[int, float]


def cpu_by_process(
    process: psutil.Process | None, *, itself: bool = True, descendants: bool = True, named: str = ""
) -> dict[ProcessKey, float]:
    """CPU seconds (user + system) so far of a process and/or its descendants alive now, per process; `named`: only
    the processes whose name contains it."""
    if process is None:
        return {}
    try:
        members = ([process] if itself else []) + (process.children(recursive=True) if descendants else [])
    except psutil.NoSuchProcess:
        return {}
    found = {}
    for each in members:
        try:
            with each.oneshot():
                if named and named not in each.name():
                    continue
                times = each.cpu_times()
                found[(each.pid, each.create_time())] = times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return found


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0)


@dataclass
class CpuShares:
    """Cores used between `start()` and `line()` by named parties (each a function giving the CPU seconds of its
    processes so far) and by the whole machine. Sampled every `interval` seconds, so a process that ends during the
    period (a database backend whose connection closed) keeps what it used up to its last sample."""

    parties: dict[str, Callable[[], dict[ProcessKey, float]]]
    interval: float = 0.5
    _first: dict[str, dict[ProcessKey, float]] = field(default_factory=dict)
    _last: dict[str, dict[ProcessKey, float]] = field(default_factory=dict)
    _began: float = 0.0
    _machine: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._first = {name: processes() for name, processes in self.parties.items()}
        self._last = {name: dict(seen) for name, seen in self._first.items()}
        self._began, self._machine = time.monotonic(), _machine_busy()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._thread.start()

    def line(self) -> str:
        """The period up to now, as 'machine 1.90 of 2: <party> 0.93, …, everything else 0.20'; sampling stops."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._sample()
        wall = time.monotonic() - self._began
        machine = (_machine_busy() - self._machine) / wall
        used = {
            name: sum(v - self._first[name].get(k, 0.0) for k, v in self._last[name].items()) / wall
            for name in self.parties
        }
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in used.items())
        rest = machine - sum(used.values())
        return f"machine {machine:.2f} of {psutil.cpu_count()}: {parts}, everything else {rest:.2f}"

    def _sample(self) -> None:
        for name, processes in self.parties.items():
            self._last[name].update(processes())

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
