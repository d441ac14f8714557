"""The local stack's watchdog: a liveness probe for every service, as an orchestrator would run one.

`make up` starts it last (`python -m localstack watch`, a service like the others: pid file, log in
`.local/logs/watchdog.log`); `make down` stops it first. Every `INTERVAL` seconds it probes, in start order,
PostgreSQL then every service of the profile (localstack.topology: the brokers, Redis, Spark's master and workers,
each Airflow component and worker, the dashboard):

- a service whose process is gone is started again at once;
- a service whose process runs but whose health check fails `FAILURES_BEFORE_RESTART` times in a row (a hung
  scheduler: alive, silent, "unhealthy") is stopped and started again.

One restart per round, earliest service first: a component that looks unhealthy only because what it depends on
is down (every Airflow component after a PostgreSQL crash) gets the time to recover once that is back.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from election.config import Settings
from localstack import topology
from localstack.postgres import Postgres
from localstack.process import Service

log = logging.getLogger("localstack.watchdog")

# Election night's thresholds: a service gone is started again within INTERVAL seconds; one alive but failing its
# health check FAILURES_BEFORE_RESTART times in a row (15 s) is restarted, given HUNG_GRACE seconds to stop before it
# is killed (a hung process does not act on SIGTERM: waiting out its usual stop timeout only keeps it down longer).
INTERVAL = 5.0
FAILURES_BEFORE_RESTART = 3
HUNG_GRACE = 5.0


@dataclass
class Probe:
    name: str
    alive: Callable[[], bool]  # its process exists
    healthy: Callable[[], bool]  # it answers its health check (exceptions count as a failure)
    restart: Callable[[], object]
    failures: int = 0

    def answers(self) -> bool:
        try:
            return bool(self.healthy())
        except Exception:  # noqa: BLE001 - a probe that cannot reach the service is a failed probe
            return False


def _service_probe(service: Service) -> Probe:
    def restart() -> None:
        service.stop(timeout=HUNG_GRACE)  # gone, or hung: nothing to wait for
        service.start()

    return Probe(service.name, lambda: service.process() is not None, service.health, restart)


def probes(settings: Settings) -> list[Probe]:
    """Every service of the stack, in start order."""
    postgres = Postgres(settings)
    return [
        Probe("postgres", lambda: postgres.pid() is not None, postgres.healthy, postgres.start),
        *(_service_probe(service) for service in topology.services(settings)),
    ]


def check(probes: list[Probe], failures_before_restart: int = FAILURES_BEFORE_RESTART) -> str | None:
    """One round: the name of the service restarted (at most one), or None."""
    for probe in probes:
        if not probe.alive():
            log.warning("%s: its process is gone: starting it again", probe.name)
        elif probe.answers():
            if probe.failures:
                log.info("%s: healthy again", probe.name)
            probe.failures = 0
            continue
        else:
            probe.failures += 1
            log.warning("%s: health check failed (%d in a row)", probe.name, probe.failures)
            if probe.failures < failures_before_restart:
                return None  # the services after it may only be waiting for it
            log.warning("%s: alive but unhealthy: restarting it", probe.name)
        probe.failures = 0
        try:
            probe.restart()
        except Exception:  # logged with its traceback; the next round tries again
            log.exception("%s: restart failed; trying again in the next round", probe.name)
        return probe.name
    return None


def watch(settings: Settings, interval: float = INTERVAL, stop: threading.Event | None = None) -> None:
    """Probe every `interval` seconds until `stop` is set (or forever)."""
    stop = stop or threading.Event()
    watched = probes(settings)
    log.info("watching %s every %.0fs", ", ".join(p.name for p in watched), interval)
    while not stop.is_set():
        began = time.monotonic()
        restarted = check(watched)
        if restarted is not None:
            log.info("%s: restarted", restarted)
        stop.wait(max(0.0, interval - (time.monotonic() - began)))


def service(settings: Settings) -> Service:
    """The watchdog as a service of the stack (healthy while its process runs)."""
    return Service(
        name="watchdog",
        command=[sys.executable, "-m", "localstack", "watch"],
        run_dir=settings.state_dir / "run",
        log_dir=settings.state_dir / "logs",
        health=lambda: True,
        cwd=settings.home,
        start_timeout=10,
    )
