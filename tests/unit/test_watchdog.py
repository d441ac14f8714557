"""The stack's watchdog rounds, on plain probes: what it restarts, when, and in which order."""

from __future__ import annotations

from localstack.watchdog import Probe, check


class Fake:
    """A service: alive or not, healthy or not; counts its restarts (a restart makes it alive and healthy)."""

    def __init__(self, name: str, alive: bool = True, healthy: bool = True) -> None:
        self.name, self.is_alive, self.is_healthy, self.restarts = name, alive, healthy, 0

    def restart(self) -> None:
        self.restarts += 1
        self.is_alive = self.is_healthy = True

    def probe(self) -> Probe:
        def healthy() -> bool:
            if self.is_healthy is None:
                raise ConnectionError("refused")
            return self.is_healthy

        return Probe(self.name, lambda: self.is_alive, healthy, self.restart)


def test_a_dead_service_is_started_at_once_and_one_per_round() -> None:
    db, scheduler = Fake("postgres", alive=False), Fake("scheduler", alive=False)
    probes = [db.probe(), scheduler.probe()]
    assert check(probes) == "postgres", "the earliest first: what the others depend on"
    assert (db.restarts, scheduler.restarts) == (1, 0)
    assert check(probes) == "scheduler"
    assert check(probes) is None, "all healthy: nothing to do"


def test_an_alive_but_unhealthy_service_is_restarted_after_three_failed_checks_in_a_row() -> None:
    scheduler, later = Fake("scheduler", healthy=False), Fake("dashboard", alive=False)
    probes = [scheduler.probe(), later.probe()]
    assert [check(probes), check(probes)] == [None, None], "twice unhealthy: maybe recovering, wait"
    assert later.restarts == 0, "the services after an unhealthy one wait for it"
    assert check(probes) == "scheduler"
    assert scheduler.restarts == 1
    assert check(probes) == "dashboard"


def test_a_probe_that_raises_is_a_failed_check_and_recovery_resets_the_count() -> None:
    api = Fake("api-server", healthy=None)
    probes = [api.probe()]
    assert [check(probes), check(probes)] == [None, None]
    api.is_healthy = True
    assert check(probes) is None
    assert probes[0].failures == 0
    api.is_healthy = None
    assert [check(probes), check(probes), check(probes)] == [None, None, "api-server"]
