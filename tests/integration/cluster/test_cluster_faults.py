"""Faults of the cluster profile survived during a running election: the Celery worker running `cast_votes`, a Kafka
broker and a Spark worker, each killed with SIGKILL (its whole session: the machine it stands for is gone), one after
the other during one election.

Each kill is proved to hit the window it is about (votes still being cast; the worker running `cast_votes`; the broker
leading the votes' partitions; the worker holding one of the stream's executors) and its recovery path to have run
(`cast_votes` ran again on the other worker; leaders moved; the executor was lost while the stream's task carried on
in the same try); then every vote is recorded once, the stream's totals equal PostgreSQL's, and each killed service
is back.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import Counter

import httpx
import psutil
import pytest
import support
from confluent_kafka.admin import ConfigResource
from conftest import drained, stream_counts

from election.config import Settings
from election.streaming.submit import APP_NAME
from localstack import airflow, kafka, spark, watchdog

pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(autouse=True)
def on_the_cluster(settings: Settings) -> None:
    if settings.stack_profile != "cluster":
        pytest.fail("these tests need the cluster profile's stack: run `make test PROFILE=cluster`")


# Cast at 100 votes/s: 36 s of casting, most of it after the faults, which come while cast_votes waits for its retry
# (and the stream for its own, when its driver ran on the same Celery worker).
VOTERS, TURNOUT = 4_000, 0.9
EXPECTED = round(VOTERS * TURNOUT)


def _kill_machine(proc: psutil.Process) -> None:
    """SIGKILL the service and everything it started, as losing the machine (or its container's cgroup) does: every
    process of its session (the stack starts each service in a session of its own), the process groups beneath it
    included (Airflow's task processes lead their own groups, and spark-submit's JVM belongs to its task's)."""
    session = os.getsid(proc.pid)
    doomed = []
    for candidate in psutil.process_iter():
        try:
            if os.getsid(candidate.pid) == session:
                doomed.append(candidate)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue
    for victim in doomed:
        with contextlib.suppress(psutil.NoSuchProcess):
            victim.kill()
    psutil.wait_procs(doomed, timeout=10)


def _back(service, killed: psutil.Process) -> bool:
    """The service runs again, in a new process, and answers its health check."""
    proc = service.process()
    if proc is None or proc.pid == killed.pid:
        return False
    try:
        return bool(service.health())
    except Exception:  # noqa: BLE001 - not answering yet
        return False


def _recorded(settings: Settings, election_id: int) -> int:
    return len(support.votes_in_postgres(settings, election_id))


def _leaders(settings: Settings, topic: str) -> dict[int, int]:
    metadata = support.admin(settings).list_topics(topic, timeout=10)
    return {p.id: p.leader for p in metadata.topics[topic].partitions.values()}


def _in_sync(settings: Settings, topic: str) -> dict[int, int]:
    metadata = support.admin(settings).list_topics(topic, timeout=10)
    return {p.id: len(p.isrs) for p in metadata.topics[topic].partitions.values()}


def test_the_cluster_replicates_every_topic_three_times(settings: Settings) -> None:
    assert settings.kafka_nodes == 3
    assert settings.kafka_replication_factor == 3
    metadata = support.admin(settings).list_topics(timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    for name in [settings.topics.votes, *settings.topics.aggregated(), settings.topics.votes_dead_letter]:
        partitions = metadata.topics[name].partitions.values()
        assert all(len(p.replicas) == 3 for p in partitions), name
    client = support.admin(settings)  # kept until its futures are resolved
    (described,) = [
        f.result(30) for f in client.describe_configs([ConfigResource("topic", settings.topics.votes)]).values()
    ]
    assert described["min.insync.replicas"].value == "2"
    assert described["unclean.leader.election.enable"].value == "false"


def _stream_executor_workers(settings: Settings) -> list[int]:
    """The workers (by number) running an executor of the stream's application."""
    state = spark.master_state(settings)
    app_ids = {app["id"] for app in state.get("activeapps", []) if app.get("name") == APP_NAME}
    found = []
    for number, service in enumerate(spark.services(settings)[1:], start=1):
        worker = httpx.get(f"http://127.0.0.1:{service.port}/json/", timeout=5).json()
        if any(executor.get("appid") in app_ids for executor in worker.get("executors", [])):
            found.append(number)
    return found


def _worker_states(settings: Settings) -> dict[int, str]:
    ports = {service.port: n for n, service in enumerate(spark.services(settings)[1:], start=1)}
    states = {}
    for worker in spark.master_state(settings).get("workers", []):
        port = httpx.URL(worker.get("webuiaddress", "http://x:0")).port
        if port in ports and states.get(ports[port]) != "ALIVE":
            states[ports[port]] = worker.get("state")
    return states


def _celery_worker_of(settings: Settings, pid: int):
    """The Celery worker service whose processes include `pid`."""
    for service in airflow.services(settings):
        proc = service.process()
        family = {p.pid for p in [proc, *proc.children(recursive=True)]} if proc is not None else set()
        if service.name.startswith("airflow-worker-") and pid in family:
            return service
    return None


def _stream_running(api, run_id: str):
    """The stream's task instance, once it runs (again, after a retry) with its executors on the workers."""
    ti = api.tasks.get_task_instance("election_streaming", run_id, "aggregate_votes")
    return ti if str(ti.state.value) == "running" else None


def test_three_faults_during_one_election(settings: Settings, api, stream, tmp_path) -> None:
    """The Celery worker running cast_votes killed first; while cast_votes waits to be retried (missed heartbeats,
    then its retry delay), the broker leading most of the votes' partitions, then a Spark worker holding one of the
    stream's executors: three machines lost in the middle of one election."""
    election_id = support.new_published_election(settings, VOTERS, 3, 81, staging=tmp_path)
    stream_counts(settings, election_id)
    run = api.trigger(
        "election_vote_simulation",
        {"election_id": election_id, "turnout": TURNOUT, "votes_per_second": 100, "random_seed": 81},
    )
    support.wait_for(lambda: _recorded(settings, election_id) >= 400, 300, "the first votes to be recorded")

    # 1. The Celery worker running cast_votes. The watchdog is held until cast_votes is retried: the retry cannot
    # but run on the other worker.
    first = api.tasks.get_task_instance("election_vote_simulation", run, "cast_votes")
    assert str(first.state.value) == "running"
    assert first.pid
    celery = _celery_worker_of(settings, first.pid)
    assert celery is not None, f"cast_votes (pid {first.pid}) runs in one of the Celery workers"
    streaming = api.tasks.get_task_instance("election_streaming", stream.run_id, "aggregate_votes")
    # the stream's driver is a task too: lost with the worker when it ran there, then retried
    stream_lost = getattr(_celery_worker_of(settings, streaming.pid), "name", None) == celery.name
    guard = watchdog.service(settings)
    guard.stop()
    try:
        celery_killed = celery.process()
        _kill_machine(celery_killed)
        assert _recorded(settings, election_id) < EXPECTED, "killed in the middle of the simulation"

        # 2. The broker leading most of the votes' partitions: the caster's writes and the stream's reads go to it.
        votes = settings.topics.votes
        victim = Counter(_leaders(settings, votes).values()).most_common(1)[0][0]
        broker = kafka.Kafka(settings, victim).service
        broker_killed = broker.process()
        assert broker_killed is not None
        _kill_machine(broker_killed)
        assert _recorded(settings, election_id) < EXPECTED, "killed in the middle of the simulation"
        support.wait_for(
            lambda: victim not in _leaders(settings, votes).values(),
            120,
            f"the votes' partitions to leave broker {victim}",
        )

        # 3. A Spark worker holding one of the stream's executors, with its executor (the stream's driver may have
        # been on the Celery worker killed above: then its retry runs first).
        tries = streaming.try_number + (1 if stream_lost else 0)
        aggregate = support.wait_for(
            lambda: (ti := _stream_running(api, stream.run_id)) is not None and ti.try_number >= tries and ti,
            300,
            "the stream to run" + (" again, on the other worker" if stream_lost else ""),
        )
        executors_on = support.wait_for(lambda: _stream_executor_workers(settings), 180, "the stream's executors")
        number = executors_on[0]
        worker = spark.services(settings)[number]
        worker_killed = worker.process()
        assert worker_killed is not None
        _kill_machine(worker_killed)
        assert _recorded(settings, election_id) < EXPECTED, "killed in the middle of the simulation"
        support.wait_for(
            lambda: _worker_states(settings).get(number) in (None, "DEAD"), 180, "the master to lose the worker"
        )

        retried = support.wait_for(
            lambda: (
                ti
                if (ti := api.tasks.get_task_instance("election_vote_simulation", run, "cast_votes")).try_number
                > first.try_number
                and str(ti.state.value) == "running"
                and ti.pid
                else None
            ),
            600,
            "cast_votes to be retried",
        )
        other = _celery_worker_of(settings, retried.pid)
        assert other is not None, f"the retry (pid {retried.pid}) runs in a Celery worker"
        assert other.name != celery.name, "the retry runs on the other worker"
    finally:
        guard.ensure_started()

    # The election finishes exactly, the stream carried on in the same driver, and everything killed is back.
    assert api.wait_for_run("election_vote_simulation", run, timeout=900) == "success"
    in_postgres = support.votes_in_postgres(settings, election_id)
    assert len(in_postgres) == EXPECTED, "every vote recorded once, none twice"
    assert sum(drained(settings, election_id, timeout=600).values()) == EXPECTED, "totals equal PostgreSQL"
    after = api.tasks.get_task_instance("election_streaming", stream.run_id, "aggregate_votes")
    assert str(after.state.value) == "running"
    assert after.try_number == aggregate.try_number, "the same driver carried on: tasks rescheduled, no restart"
    for service, killed in ((celery, celery_killed), (broker, broker_killed), (worker, worker_killed)):
        back = functools.partial(_back, service, killed)
        support.wait_for(back, 300, f"the watchdog to start {service.name} again")
    support.wait_for(
        lambda: set(_in_sync(settings, votes).values()) == {3}, 300, f"broker {victim} to catch up (3 replicas in sync)"
    )
    log = watchdog.service(settings).log_file.read_text(errors="replace")
    assert f"{broker.name}: its process is gone: starting it again" in log
