"""Helpers for the integration tests: elections of their own, topics of their own, reading what a run produced.

Tests never change what they did not create: every election they need is created here (and removed at the end of
the session by the integration conftest), and a test that runs its own streaming job does so on topics of its own
(`scratch_topics`), never on the platform's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import psycopg
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from election import elections, kafka_topics
from election.compacted import latest_values
from election.config import Settings, Topics
from election.kafka_io import consumer as kafka_consumer
from election.kafka_io import reliable_producer, watermarks
from election.kafka_topics import TopicSpec, topic_specs

# Every election this test session created, removed when it ends (tests/integration/conftest.py).
CREATED: list[int] = []


def connect(settings: Settings, **kwargs) -> psycopg.Connection:
    return psycopg.connect(settings.election_db.conninfo(), **kwargs)


def new_election(
    settings: Settings,
    voters: int,
    candidates: int,
    random_seed: int = 1,
    *,
    name: str | None = None,
    staging: Path | None = None,
) -> int:
    """A new election, loaded (and checked) through the seed's own steps but not published; its id."""
    from election.quality.connection import LendableConnection
    from election.seeding.pipeline import generate_step, load_step
    from election.seeding.staging import SeedRequest

    request = SeedRequest(voters, candidates, random_seed, settings.election_date)
    staged = generate_step(request, staging or settings.seed_staging_dir)
    with LendableConnection.connect(settings.election_db.conninfo()) as conn:
        result = load_step(conn, staged, name=name or f"test {uuid.uuid4().hex[:6]} ({voters} voters)")
    CREATED.append(result.election_id)
    return result.election_id


def publish(settings: Settings, election_id: int, topics: Topics | None = None) -> None:
    """Publish an election's candidates and voters (to the platform's topics, or to `topics`)."""
    from election.seeding.publish import publish_election

    principal = settings.kafka_seed if topics is None else settings.kafka_admin  # topics of a test's own: the admin
    topics = topics or settings.topics
    with connect(settings) as conn:
        publish_election(
            conn,
            reliable_producer(settings.kafka_client_config(principal)),
            election_id,
            candidates_topic=topics.candidates,
            voters_topic=topics.voters,
        )


def new_published_election(settings: Settings, voters: int, candidates: int, random_seed: int = 1, **kwargs) -> int:
    election_id = new_election(settings, voters, candidates, random_seed, **kwargs)
    publish(settings, election_id)
    return election_id


def delete_elections(settings: Settings, ids: Iterable[int]) -> None:
    with connect(settings) as conn:
        for election_id in ids:
            elections.delete(conn, election_id)


def close_election(settings: Settings, election_id: int) -> None:
    with connect(settings) as conn:
        elections.close(conn, election_id)


def cast(settings: Settings, election_id: int, topics: Topics | None = None, **request):
    """The election's votes cast through the DAG's caster (its own consumer group); the report."""
    from election.voting.caster import CastRequest, cast_election

    principal = settings.kafka_caster if topics is None else settings.kafka_admin
    topics = topics or settings.topics  # (the platform's own Topics object: the test below tells them apart)
    return cast_election(
        lambda: connect(settings),
        settings.kafka_client_config(principal),
        CastRequest(election_id=election_id, **request),
        voters_topic=topics.voters,
        votes_topic=topics.votes,
        # the platform's group prefix (the only one the caster may use) for the platform's topics
        group_prefix=settings.vote_caster_group if topics is settings.topics else f"test-caster-{uuid.uuid4().hex[:8]}",
    )


def votes_in_postgres(settings: Settings, election_id: int) -> dict[str, str]:
    """voter -> candidate of the election's recorded votes."""
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT voter_id::text, candidate_id::text FROM votes WHERE election_id = %s", (election_id,)
        ).fetchall()
    return dict(rows)


def per_candidate_in_postgres(settings: Settings, election_id: int) -> dict[str, int]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT candidate_id::text, count(*) FROM votes WHERE election_id = %s GROUP BY 1", (election_id,)
        ).fetchall()
    return {candidate: int(n) for candidate, n in rows}


def a_voter_and_candidate(conn: psycopg.Connection, election_id: int) -> tuple[str, str]:
    """Some voter and some candidate of the election (for a vote inserted by hand)."""
    return conn.execute(
        "SELECT v.voter_id, c.candidate_id FROM voters v JOIN candidates c USING (election_id)"
        " WHERE v.election_id = %s LIMIT 1",
        (election_id,),
    ).fetchone()


# -- Kafka ------------------------------------------------------------------------------------------------------


def admin(settings: Settings) -> AdminClient:
    return AdminClient(settings.kafka_client_config())


def create_topics(settings: Settings, partitions: dict[str, int], config: dict[str, dict] | None = None) -> None:
    specs = [TopicSpec(name, n, (config or {}).get(name, {})) for name, n in partitions.items()]
    kafka_topics.create_topics(admin(settings), specs)


def delete_topics(settings: Settings, names: list[str]) -> None:
    client = admin(settings)
    existing = [name for name in names if name in client.list_topics(timeout=10).topics]
    for future in client.delete_topics(existing).values() if existing else []:
        with contextlib.suppress(KafkaException):  # already gone is fine when cleaning up
            future.result(30)


@contextlib.contextmanager
def scratch_topics(settings: Settings, label: str):
    """Every platform topic under a prefix of its own (as `make up` creates them), deleted afterwards: a streaming
    job or caster run on these never touches the platform's topics."""
    prefix = f"test_{label}_{uuid.uuid4().hex[:8]}_"
    topics = settings.topics.prefixed(prefix)
    specs = topic_specs(settings, topics)
    kafka_topics.create_topics(admin(settings), specs)
    try:
        yield prefix, topics
    finally:
        delete_topics(settings, [s.name for s in specs])


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The next offset of each partition: where messages produced from now on will start."""
    consumer = kafka_consumer(settings.kafka_client_config(), **{"group.id": "watermarks"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: watermarks(consumer, topic, p)[1] for p in partitions}
    finally:
        consumer.close()


def read_since(settings: Settings, topic: str, offsets: dict[int, int]) -> list[tuple[str, bytes]]:
    """Every (key, value) produced to `topic` after `offsets` (from end_offsets), up to the current end."""
    consumer = kafka_consumer(settings.kafka_client_config(), **{"group.id": "read-since", "enable.auto.commit": False})
    end = end_offsets(settings, topic)
    consumer.assign([TopicPartition(topic, p, offset) for p, offset in offsets.items() if end[p] > offset])
    remaining = sum(end[p] - offset for p, offset in offsets.items())
    records = []
    try:
        while remaining > 0:
            msg = consumer.poll(10)
            assert msg is not None, f"{remaining} messages of {topic} could not be read"
            if msg.error():
                continue
            records.append((msg.key().decode() if msg.key() else None, msg.value()))
            remaining -= 1
    finally:
        consumer.close()
    return records


def read_all(settings: Settings, topic: str) -> list[tuple[str | None, bytes]]:
    """Every message currently in a topic, in offset order per partition."""
    return read_since(settings, topic, {p: 0 for p in end_offsets(settings, topic)})


def latest_by_key(settings: Settings, topic: str, election_id: int | None = None) -> dict[str, dict]:
    """What a compacted topic means: the last JSON value per key (of one election's keys, when given)."""
    values = latest_values(settings.kafka_client_config(), topic)
    if election_id is None:
        return values
    return {key: value for key, value in values.items() if key.startswith(f"{election_id}:")}


def wait_for(check, timeout: float, what: str, interval: float = 1.0):
    """Poll until `check()` returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(interval)


# -- the local stack --------------------------------------------------------------------------------------------


def stream_processes(settings: Settings | None = None) -> list:
    """Processes of the platform's vote stream (spark-submit's JVM and the Python driver on the platform's
    checkpoint), not of a job a test or benchmark runs on a checkpoint of its own."""
    import psutil

    from election.config import get_settings

    checkpoint = str((settings or get_settings()).checkpoint_dir)
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if any("vote_aggregation.py" in part for part in cmdline) and checkpoint in cmdline:
                found.append(proc)
        except psutil.NoSuchProcess:
            pass
    return found


def airflow_api(settings: Settings):
    from election.demo import connect as connect_api

    return connect_api(settings)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
