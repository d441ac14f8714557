"""Integration tests talk to the real services of the local stack; `make test` starts them first.

The session leaves a user's data as it found it: every election the tests need is their own (tests/support.py
removes them at the end), and `user_data` proves it: the elections that existed before the session, plus a
bystander election made at its start the way a user makes one (seeded, voted, counted by the stream), are
compared at the end with what they were, down to the values on the compacted topics.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lanes
import pytest
import support
from psycopg import sql

from election import elections
from election.config import Database, Settings
from localstack import airflow
from localstack.kafka import Kafka
from localstack.postgres import Postgres

# Tests that take away a part of the stack the others rely on run after every other test, in this order: each leaves
# the stack as the next expects it (the stream running again, or coming back), so no other test waits on a stream or
# scheduler one of them stopped. The stream is killed more often than its retries right after the benchmarks' pause
# started a new run of it (a run whose tries no other fault used); the last test stops it for good.
STACK_FAULTS = (
    "test_bench_quiet.py::test_a_running_stream_is_paused_for_the_benchmarks_and_resumed_after",  # a new run
    "test_streaming_dag_on_stack.py::test_a_stream_killed_more_often_than_its_retries_comes_back_by_itself",
    "test_supervision.py::test_the_watchdog_runs_and_restarts_a_hung_scheduler",
    "test_supervision.py::test_postgres_killed_mid_simulation_comes_back_and_the_election_finishes_exactly",
    "test_stack_lifecycle.py::test_down_then_up_keeps_rows_and_messages",
    "test_streaming_dag_on_stack.py::test_the_stream_counts_an_election_and_logs_its_progress",
    "test_streaming_dag_on_stack.py::test_marking_the_task_failed_leaves_no_driver",
)


# Of those, the ones that take away what every test needs: they hold the stack alone (lanes.stack_lock).
EXCLUSIVE_FAULTS = (
    "test_supervision.py::test_postgres_killed_mid_simulation_comes_back_and_the_election_finishes_exactly",
    "test_stack_lifecycle.py::test_down_then_up_keeps_rows_and_messages",
)


def fault_order(nodeid: str) -> int | None:
    """The place of a test among the stack's faults, or None for any other test."""
    return next((i for i, name in enumerate(STACK_FAULTS) if nodeid.endswith(f"integration/{name}")), None)


def _exclusive(nodeid: str) -> bool:
    return any(nodeid.endswith(f"integration/{name}") for name in EXCLUSIVE_FAULTS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    stale = [
        name
        for name in (*STACK_FAULTS, *EXCLUSIVE_FAULTS)
        if f"def {name.split('::')[1]}(" not in (here / name.split("::")[0]).read_text()
    ]
    if stale:
        raise pytest.UsageError(f"STACK_FAULTS names tests that do not exist (renamed?): {stale}")
    # stable: every other test keeps its place, the faults follow in their order
    items.sort(key=lambda item: -1 if (order := fault_order(item.nodeid)) is None else order)
    if lanes.LANE is not None:  # tests/run.py runs the two lanes at once: this session runs its own

        def lane(item: pytest.Item) -> str:
            if not str(item.fspath).startswith(str(here)):
                return "own"  # a test that needs no service: beside the platform lane's faults, which mostly wait
            return lanes.lane_of(item, fault_order(item.nodeid) is not None)

        other = [item for item in items if lane(item) != lanes.LANE]
        if other:
            config.hook.pytest_deselected(items=other)
            elsewhere = {id(item) for item in other}
            items[:] = [item for item in items if id(item) not in elsewhere]


def _held_by_module(module) -> bool:
    """A module whose jobs outlive its tests (a stream job running across them) holds the stack for all of them."""
    return lanes.LANE == "own" and getattr(module, "JOBS_OUTLIVE_TESTS", False)


@pytest.fixture(scope="module", autouse=True)
def _stack_held_by_module(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    if not _held_by_module(request.module):
        yield
        return
    with lanes.stack_lock(settings.state_dir / "run", exclusive=False):
        yield


@pytest.fixture(autouse=True)
def _stack_held(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    """A fault that takes the stack away holds it alone; a test of the own lane holds it beside the others."""
    exclusive = _exclusive(request.node.nodeid)
    if (not exclusive and lanes.LANE != "own") or _held_by_module(request.module):
        yield
        return
    with lanes.stack_lock(settings.state_dir / "run", exclusive=exclusive):
        yield


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
    """The schema at its newest revision, as election_schema leaves it (idempotent: a user's data is kept); once per
    run when the lanes run at once."""
    from election.schema import bring_up_to_date

    lanes.once_per_run(settings.state_dir / "run", "schema", lambda: bring_up_to_date(settings) or True)


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
def stream(api, schema, bystander) -> Iterator[Stream]:
    """The platform's stream, started after the bystander was seeded: its first registry already counts it."""
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


@dataclass(frozen=True)
class Simulated:
    election_id: int
    run_id: str  # the election_vote_simulation run that cast its votes


@pytest.fixture(scope="session")
def simulated_election(settings: Settings, api, stream, tmp_path_factory) -> Simulated:
    """An election as a user runs one on the stack: 2,000 voters seeded, election_vote_simulation triggered (half of
    them vote) through the scheduler and the triggerer, the running stream counting it. Shared by the tests of that
    DAG and of the dashboard showing it, which only read it."""
    election_id = support.new_published_election(
        settings, 2_000, 3, 63, name="simulated on the stack", staging=tmp_path_factory.mktemp("seed")
    )
    stream_counts(settings, election_id)
    run = api.trigger("election_vote_simulation", {"election_id": election_id, "turnout": 0.5, "random_seed": 3})
    assert api.wait_for_run("election_vote_simulation", run, timeout=600) == "success"
    return Simulated(election_id, run)


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
def users_elections(settings: Settings, schema) -> list[int]:
    """The elections there before the session (a user's): read before any test made one, in either lane."""

    def read() -> list[int]:
        with support.connect(settings) as conn:
            return [e.election_id for e in elections.all_elections(conn)]

    return lanes.once_per_run(settings.state_dir / "run", "users-elections", read)


@pytest.fixture(scope="session")
def bystander(settings: Settings, users_elections, tmp_path_factory) -> int:
    """An election made the way a user makes one, standing for a user's even on a stack with none."""
    election_id = support.new_published_election(
        settings, 800, 3, 91, name="bystander: stands for a user's election", staging=tmp_path_factory.mktemp("seed")
    )
    support.CREATED.remove(election_id)  # removed only after the comparison at the end (user_data)
    return election_id


@pytest.fixture(scope="session", autouse=True)
def user_data(request: pytest.FixtureRequest, settings: Settings, users_elections) -> Iterator[None]:
    """The elections there before the session (a user's) and the bystander, voted and counted by the stream, are
    compared at the end with what they were, down to the values on the compacted topics (by the platform lane, when
    the lanes run at once: the own lane has no stream)."""
    if lanes.LANE == "own":
        yield
        return
    bystander = request.getfixturevalue("bystander")
    request.getfixturevalue("stream")
    stream_counts(settings, bystander)  # votes sent before would be dead letters of an election it does not count
    support.cast(settings, bystander, turnout=0.6, random_seed=5)
    drained(settings, bystander)
    settled(settings, bystander)
    kept = [*users_elections, bystander]
    snapshots = {election_id: snapshot(settings, election_id) for election_id in kept}
    yield
    try:
        for election_id, expected in snapshots.items():
            assert snapshot(settings, election_id) == expected, f"election {election_id} was changed by the tests"
    finally:
        support.delete_elections(settings, [bystander])


def settled(settings: Settings, election_id: int, timeout: float = 60) -> None:
    """Until the values the stream published for the election stop changing: two reads of every topic a few seconds
    apart, equal (its last batch committed: the snapshot taken next is what the election's topics hold)."""
    previous: list[Snapshot | None] = [None]

    def same() -> bool:
        current = snapshot(settings, election_id)
        done = current == previous[0]
        previous[0] = current
        return done

    support.wait_for(same, timeout, f"the stream's values of election {election_id} to settle", interval=3)


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
