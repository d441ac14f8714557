"""Integration tests talk to the real services of the local stack; `make test` starts them first.

The session leaves a user's data as it found it: every election the tests need is their own (tests/support.py
removes them at the end), and `user_data` proves it: the elections that existed before the session, plus a
bystander election made at its start the way a user makes one (seeded, voted, counted by the stream), are
compared at the end with what they were, down to the values on the compacted topics.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import support
from psycopg import sql

from election import elections
from election.config import Database, Settings
from localstack import airflow
from localstack.kafka import Kafka
from localstack.postgres import Postgres


@pytest.fixture(scope="session", autouse=True)
def stack_is_up(settings: Settings) -> None:
    """Fail fast, with the fix, when the services are not running (rather than one timeout per test)."""
    problems = []
    if Postgres(settings).pid() is None:
        problems.append("PostgreSQL")
    if Kafka(settings).service.process() is None:
        problems.append("Kafka")
    problems += [s.name for s in airflow.services(settings) if s.process() is None]
    if problems:
        pytest.fail(f"not running: {', '.join(problems)}. Start the stack with `make up` (or run `make test`).")


@pytest.fixture
def admin(settings: Settings):
    return support.admin(settings)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A scratch database of the test's own, owned by the application's role, empty, dropped afterwards."""
    name = f"scratch_db_{uuid.uuid4().hex[:8]}"
    postgres = Postgres(settings)
    with postgres.superuser_connect() as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(settings.election_db.user)
            )
        )
    yield Database(
        settings.election_db.host,
        settings.election_db.port,
        name,
        settings.election_db.user,
        settings.election_db.password,
    )
    with postgres.superuser_connect() as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def scratch_topic(settings: Settings) -> Iterator[str]:
    """A fresh 3-partition topic, deleted after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    support.create_topics(settings, {name: 3})
    yield name
    support.delete_topics(settings, [name])


@pytest.fixture(scope="session", autouse=True)
def schema(settings: Settings, stack_is_up) -> None:
    """The schema at its newest revision, as election_schema leaves it (idempotent: a user's data is kept)."""
    from election.schema import bring_up_to_date

    bring_up_to_date(settings)


@pytest.fixture(scope="session", autouse=True)
def own_elections_removed(settings: Settings, schema) -> Iterator[None]:
    yield
    support.delete_elections(settings, support.CREATED)


@dataclass
class Stream:
    """The platform's running stream (election_streaming): the user's if one was running, else this session's."""

    run_id: str
    owned: bool  # started by this session (and stopped at its end)


def start_stream(api) -> str:
    """What a user does to run the stream: unpause election_streaming; its @continuous schedule starts a run."""
    api.unpause("election_streaming")
    run_id = api.wait_for_running_run("election_streaming", timeout=120)
    api.wait_for_task("election_streaming", run_id, "aggregate_votes", {"running"}, timeout=300)
    return run_id


def stop_stream(api, run_id: str) -> str:
    """What a user does to end the stream: pause the DAG (no new run), mark the running task success. The run's
    final state."""
    api.pause("election_streaming")
    api.mark_task("election_streaming", run_id, "aggregate_votes", "success")
    state = api.wait_for_run("election_streaming", run_id, timeout=120)
    support.wait_for(lambda: not support.stream_processes(), 60, "the stream's processes to end")
    return state


@pytest.fixture(scope="session")
def api(settings: Settings, stack_is_up):
    client = support.airflow_api(settings)
    client.wait_for_dags(
        ["election_schema", "election_seed", "election_streaming", "election_vote_simulation", "election_certify"]
    )
    for dag_id in ("election_vote_simulation", "election_certify"):  # election_streaming: by the `stream` fixture
        client.unpause(dag_id)
    return client


@pytest.fixture(scope="session")
def stream(api, schema) -> Iterator[Stream]:
    owned = not api.running_runs("election_streaming")
    current = Stream(start_stream(api), owned)
    yield current
    if current.owned and api.task_state("election_streaming", current.run_id, "aggregate_votes") == "running":
        stop_stream(api, current.run_id)


def stream_counts(settings: Settings, election_id: int) -> None:
    """Until the running stream says it counts the election (its heartbeat lists it)."""
    from election.heartbeat import stream_heartbeat

    def counted() -> bool:
        beat = stream_heartbeat(settings.kafka_client_config(), settings.topics.stream_heartbeat)
        return beat is not None and beat.age < 30 and election_id in beat.elections

    support.wait_for(counted, 180, f"the stream to count election {election_id}")


def drained(settings: Settings, election_id: int, timeout: float = 180) -> dict[str, int]:
    """Until the stream's per-candidate totals of the election equal PostgreSQL's; those totals."""
    expected = support.per_candidate_in_postgres(settings, election_id)

    def equal() -> dict[str, int] | None:
        streamed = {
            value["candidate_id"]: value["total_votes"]
            for value in support.latest_by_key(settings, settings.topics.votes_per_candidate, election_id).values()
        }
        return streamed if streamed == expected else None

    return support.wait_for(equal, timeout, f"the stream to count every vote of election {election_id}")


# -- a user's data, untouched ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    election: elections.Election
    votes: tuple[int, str]  # how many, and a digest of every (voter, candidate, time)
    outbox: int
    certified: tuple
    topic_values: dict[str, dict[str, dict]]  # topic -> key -> value, the election's keys only


def snapshot(settings: Settings, election_id: int) -> Snapshot:
    with support.connect(settings) as conn:
        election = elections.require(conn, election_id)
        digest = hashlib.sha256()
        count = 0
        for row in conn.execute(
            "SELECT voter_id, candidate_id, voting_time FROM votes WHERE election_id = %s ORDER BY voter_id",
            (election_id,),
        ):
            digest.update(repr(row).encode())
            count += 1
        outbox = conn.execute("SELECT count(*) FROM vote_outbox WHERE election_id = %s", (election_id,)).fetchone()[0]
        certified = tuple(
            conn.execute(
                "SELECT candidate_id, votes FROM certified_results WHERE election_id = %s ORDER BY 1", (election_id,)
            ).fetchall()
        )
    topics = [*settings.topics.aggregated(), settings.topics.election_results]
    values = {topic: support.latest_by_key(settings, topic, election_id) for topic in topics}
    results = support.latest_by_key(settings, settings.topics.election_results)
    if str(election_id) in results:
        values[settings.topics.election_results] = {str(election_id): results[str(election_id)]}
    return Snapshot(election, (count, digest.hexdigest()), outbox, certified, values)


@pytest.fixture(scope="session", autouse=True)
def user_data(settings: Settings, schema, stream, tmp_path_factory) -> Iterator[None]:
    """The elections there before the session (a user's) and a bystander made like a user's, compared at the end."""
    with support.connect(settings) as conn:
        before = [e.election_id for e in elections.all_elections(conn)]
    bystander = support.new_published_election(
        settings, 800, 3, 91, name="bystander: stands for a user's election", staging=tmp_path_factory.mktemp("seed")
    )
    support.CREATED.remove(bystander)  # removed only after the comparison below
    stream_counts(settings, bystander)
    support.cast(settings, bystander, turnout=0.6, random_seed=5)
    drained(settings, bystander)
    time.sleep(2)  # the stream's last batch committed
    kept = [*before, bystander]
    snapshots = {election_id: snapshot(settings, election_id) for election_id in kept}
    yield
    try:
        for election_id, expected in snapshots.items():
            assert snapshot(settings, election_id) == expected, f"election {election_id} was changed by the tests"
    finally:
        support.delete_elections(settings, [bystander])


@pytest.fixture(scope="session")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}
    return bag


@contextlib.contextmanager
def paused(dag_id: str):
    """The DAG paused while the block runs, then as it was: the stack's scheduler examines only the runs of unpaused
    DAGs, so it leaves alone a run `dag.test()` drives in-process (both updating the same run deadlocked)."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    def set_paused(value: bool | None) -> bool | None:
        with create_session() as session:
            model = session.get(DagModel, dag_id)
            if model is None or value is None:
                return None if model is None else model.is_paused
            before, model.is_paused = model.is_paused, value
            return before

    before = set_paused(True)
    try:
        yield
    finally:
        set_paused(before)


@pytest.fixture
def run_dag(dag_bag):
    """Run a DAG in-process against the stack's services (`dag.test()`), the scheduler kept off it; returns the
    finished DagRun."""

    def run(dag_id: str, **conf):
        with paused(dag_id):
            return dag_bag.get_dag(dag_id).test(run_conf=conf or None)

    return run
