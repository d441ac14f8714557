"""Background processes of the local stack: start, health-wait, stop, all tracked by pid files.

A pid file records the pid *and* the process start time, so a recycled pid never makes us believe a service
is running, and `make down` never signals a process it did not start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil


class StackError(RuntimeError):
    """A service could not be set up, started or reached; the message says what to do."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(port: int, variable: str, service: str) -> None:
    if port_in_use(port):
        raise StackError(
            f"port {port} (needed by {service}) is already in use by another program. "
            f"Stop that program, or set {variable} to a free port (e.g. in .env) and run `make up` again."
        )


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"(no log at {path})"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log_file: Path | None = None,
    alive: Callable[[], bool] | None = None,
    interval: float = 1.0,
) -> None:
    """Poll `check` until it is true; fail with the log's tail on timeout or when the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        # Any failure of a health probe (refused connection, timeout, HTTP error) just means "not yet".
        with contextlib.suppress(Exception):
            if check():
                return
        if alive is not None and not alive():
            hint = f"\n--- last lines of {log_file} ---\n{tail(log_file)}" if log_file else ""
            raise StackError(f"{what} exited while starting.{hint}")
        if time.monotonic() > deadline:
            hint = f"\n--- last lines of {log_file} ---\n{tail(log_file)}" if log_file else ""
            raise StackError(f"{what} did not become healthy within {timeout:.0f}s.{hint}")
        time.sleep(interval)


@dataclass
class PidFile:
    path: Path

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = psutil.Process(pid).create_time()
        self.path.write_text(json.dumps({"pid": pid, "create_time": created}))

    def process(self) -> psutil.Process | None:
        """The recorded process if it is still the one we started, else None."""
        try:
            record = json.loads(self.path.read_text())
            proc = psutil.Process(record["pid"])
            if abs(proc.create_time() - record["create_time"]) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (FileNotFoundError, ValueError, KeyError, psutil.NoSuchProcess):
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _group_of(proc: psutil.Process) -> int | None:
    try:
        return os.getpgid(proc.pid)
    except ProcessLookupError:
        return None


def stop_process_group(proc: psutil.Process, *, timeout: float = 30.0) -> None:
    """SIGTERM the process and everything it started in its process group, then SIGKILL whatever of those is left
    after `timeout`. A child in a session of its own is not part of it: the services the watchdog restarted are its
    children, and stopping the watchdog must leave them running."""
    try:
        group = _group_of(proc)
        family = [p for p in [proc, *proc.children(recursive=True)] if _group_of(p) == group]
    except psutil.NoSuchProcess:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    _, alive = psutil.wait_procs(family, timeout=timeout)
    for straggler in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            straggler.kill()
    psutil.wait_procs(alive, timeout=5)


@dataclass
class Service:
    """A long-running process the stack starts itself (everything but PostgreSQL, which pg_ctl manages)."""

    name: str
    command: list[str]
    run_dir: Path
    log_dir: Path
    health: Callable[[], bool]
    port: int | None = None
    port_variable: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Called before each start (by `make up` and by the watchdog alike): write its settings, build its command.
    prepare: Callable[[], None] | None = None
    start_timeout: float = 120.0
    stop_timeout: float = 30.0

    @property
    def pid_file(self) -> PidFile:
        return PidFile(self.run_dir / f"{self.name}.pid")

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def process(self) -> psutil.Process | None:
        return self.pid_file.process()

    def start(self) -> bool:
        """Start unless already running; True when a new process was started."""
        if self.process() is not None:
            return False
        if self.port is not None:
            ensure_port_free(self.port, self.port_variable or "", self.name)
        if self.prepare is not None:
            self.prepare()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name} ===\n".encode())
            log.flush()
            # A session of its own: the service survives `make up` exiting, and `make down` can stop the
            # whole process group (Airflow's task processes, spark-submit's JVM) in one signal.
            proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        self.pid_file.write(proc.pid)
        return True

    def ensure_started(self, repair_after: float = 30.0) -> str | None:
        """Start it unless it runs; one that runs but stays unhealthy for `repair_after` seconds (hung) is
        restarted. What was done: "started", "restarted" or None (it was running and healthy)."""
        if self.start():
            return "started"
        try:
            wait_until(self.health, timeout=repair_after, what=self.name, alive=lambda: self.process() is not None)
            return None
        except StackError:
            self.stop()
            self.start()
            return "restarted"

    def wait_healthy(self) -> None:
        wait_until(
            self.health,
            timeout=self.start_timeout,
            what=self.name,
            log_file=self.log_file,
            alive=lambda: self.process() is not None,
        )

    def stop(self, timeout: float | None = None) -> bool:
        """SIGTERM its process group, SIGKILL what is left after `timeout` (its stop_timeout unless told)."""
        proc = self.process()
        self.pid_file.remove()
        if proc is None:
            return False
        stop_process_group(proc, timeout=self.stop_timeout if timeout is None else timeout)
        return True
