"""The local stack supervises its services: the watchdog that `make up` starts brings back a hung scheduler and a
PostgreSQL killed in the middle of a simulation, which then finishes exactly, with no manual step."""

from __future__ import annotations

import os
import signal

import psycopg
import pytest
import support
from conftest import drained, stream_counts

from election.config import Settings
from localstack import airflow, watchdog
from localstack.postgres import Postgres

pytestmark = pytest.mark.timeout(1200)


def _watchdog_log(settings: Settings) -> str:
    return watchdog.service(settings).log_file.read_text(errors="replace")


def _postgres_answers(settings: Settings) -> bool:
    try:
        with psycopg.connect(settings.election_db.conninfo(), connect_timeout=3) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def test_the_watchdog_runs_and_restarts_a_hung_scheduler(settings: Settings, api) -> None:
    """The hang planted exactly: the scheduler stopped (SIGSTOP), alive and silent, as a deadlocked one is."""
    assert watchdog.service(settings).process() is not None, "make up started the watchdog"
    scheduler = next(s for s in airflow.services(settings) if s.name == "airflow-scheduler")
    hung = scheduler.process()
    assert hung is not None
    os.kill(hung.pid, signal.SIGSTOP)
    try:
        support.wait_for(lambda: not scheduler.health(), 120, "the scheduler's health to go stale")
        restarted = support.wait_for(
            lambda: (p := scheduler.process()) is not None and p.pid != hung.pid and scheduler.health(),
            300,
            "the watchdog to restart the hung scheduler",
        )
        assert restarted
    finally:
        if hung.is_running():
            os.kill(hung.pid, signal.SIGCONT)
    assert "airflow-scheduler: alive but unhealthy: restarting it" in _watchdog_log(settings)
    run = api.trigger("election_schema", {})
    assert api.wait_for_run("election_schema", run, timeout=300) == "success", "the new scheduler schedules"


def test_postgres_killed_mid_simulation_comes_back_and_the_election_finishes_exactly(
    settings: Settings, api, stream, tmp_path
) -> None:
    voters, turnout = 3_000, 0.9
    election_id = support.new_published_election(settings, voters, 3, 71, staging=tmp_path)
    stream_counts(settings, election_id)
    run = api.trigger(
        "election_vote_simulation",
        {"election_id": election_id, "turnout": turnout, "votes_per_second": 300, "random_seed": 4},
    )
    support.wait_for(
        lambda: len(support.votes_in_postgres(settings, election_id)) >= 400,
        300,
        "the first votes to be recorded",
        interval=0.2,
    )
    postgres = Postgres(settings)
    killed = postgres.pid()
    assert killed is not None
    recorded_before = len(support.votes_in_postgres(settings, election_id))
    os.kill(killed, signal.SIGKILL)
    support.wait_for(lambda: not _postgres_answers(settings), 10, "PostgreSQL to be down", interval=0.2)
    assert recorded_before < round(voters * turnout), "killed in the middle of the simulation"
    support.wait_for(
        lambda: postgres.pid() not in (None, killed) and _postgres_answers(settings),
        180,
        "the watchdog to start PostgreSQL again",
    )
    assert "postgres: its process is gone: starting it again" in _watchdog_log(settings)
    assert api.wait_for_run("election_vote_simulation", run, timeout=900) == "success"
    in_postgres = support.votes_in_postgres(settings, election_id)
    assert len(in_postgres) == round(voters * turnout), "every vote recorded once, none twice"
    assert sum(drained(settings, election_id, timeout=600).values()) == len(in_postgres), "totals equal PostgreSQL"
