"""Helpers for the integration tests: resetting the election's data, reading what a run produced."""

from __future__ import annotations

import contextlib
import shutil

import psycopg
from confluent_kafka import Consumer, KafkaException, TopicPartition

from election.compacted import latest_values
from election.config import Settings


def reset_election_data(settings: Settings) -> None:
    """Empty the election's tables (the schema stays) and the seed's staging folder."""
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        exists = conn.execute("SELECT to_regclass('election_registry')").fetchone()[0]
        if exists:
            conn.execute("TRUNCATE votes, voters, candidates, parties, election_registry CASCADE")
    shutil.rmtree(settings.seed_staging_dir, ignore_errors=True)


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The next offset of each partition: where messages produced from now on will start."""
    consumer = Consumer(settings.kafka_client_config(**{"group.id": "watermarks"}))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        consumer.close()


def read_since(settings: Settings, topic: str, offsets: dict[int, int]) -> list[tuple[str, bytes]]:
    """Every (key, value) produced to `topic` after `offsets` (from end_offsets), up to the current end."""
    consumer = Consumer(settings.kafka_client_config(**{"group.id": "read-since", "enable.auto.commit": False}))
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


def latest_by_key(settings: Settings, topic: str) -> dict[str, dict]:
    """What a compacted topic means: the last JSON value per key."""
    return latest_values(settings.kafka_client_config(), topic)


def ensure_schema(settings: Settings) -> None:
    """The schema, the regions and the dashboard's role, as election_schema makes them (idempotent)."""
    from election.schema import grant_read_only, upsert_regions
    from election.sql import SQL_DIR, schema_files

    with psycopg.connect(settings.election_db.conninfo()) as conn:
        with conn.transaction():
            for name in schema_files():
                conn.execute((SQL_DIR / name).read_text())
        upsert_regions(conn)
        grant_read_only(conn, settings.dashboard_db_user, settings.dashboard_db_password)


def seed_election(settings: Settings, voters: int, candidates: int, random_seed: int = 1) -> None:
    """An empty election database, then a seeded one (no Kafka publishing), through the seed's own steps."""
    from election.seeding.pipeline import generate_step, load_step
    from election.seeding.staging import SeedRequest

    ensure_schema(settings)
    reset_election_data(settings)
    staged = generate_step(
        SeedRequest(voters, candidates, random_seed, settings.election_date), settings.seed_staging_dir
    )
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        load_step(conn, staged)


def create_topics(settings: Settings, partitions: dict[str, int]) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(settings.kafka_client_config())
    futures = admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
    for future in futures.values():
        future.result(30)


def delete_topics(settings: Settings, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.kafka_client_config())
    for future in admin.delete_topics(names).values():
        with contextlib.suppress(KafkaException):  # already gone is fine when cleaning up
            future.result(30)


def reset_streaming_state(settings: Settings) -> None:
    """Empty every topic the stream reads or writes (delete, then re-create) and delete its checkpoints."""
    from election.kafka_topics import topic_specs

    keep = {settings.topics.voters, settings.topics.candidates}
    _recreate_topics(settings, [spec.name for spec in topic_specs(settings) if spec.name not in keep])
    shutil.rmtree(settings.checkpoint_dir, ignore_errors=True)


def _recreate_topics(settings: Settings, names: list[str]) -> None:
    import time

    from confluent_kafka.admin import AdminClient

    from election.kafka_topics import ensure_topics

    delete_topics(settings, names)
    admin = AdminClient(settings.kafka_client_config())
    deadline = time.monotonic() + 60
    while set(names) & set(admin.list_topics(timeout=10).topics) and time.monotonic() < deadline:
        time.sleep(0.5)
    for _ in range(30):
        try:
            ensure_topics(settings)
            return
        except KafkaException:  # "marked for deletion" for a moment after the delete
            time.sleep(1)
    ensure_topics(settings)


def stream_processes() -> list:
    """Processes of the vote aggregation job (spark-submit's JVM and the Python driver)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any("vote_aggregation.py" in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.NoSuchProcess:
            pass
    return found


def airflow_api(settings: Settings):
    from election.airflow_api import AirflowApi
    from election.stack.airflow import admin_password

    return AirflowApi(settings.airflow_url, settings.airflow_admin_user, admin_password(settings))


def seed_and_publish(settings: Settings, voters: int, candidates: int, random_seed: int, voters_topic: str) -> None:
    """An empty election database, then a seeded one whose voters are published to `voters_topic`."""
    from election.kafka_io import reliable_producer
    from election.seeding.pipeline import generate_step, load_step
    from election.seeding.publish import publish_seed
    from election.seeding.staging import SeedRequest

    ensure_schema(settings)
    reset_election_data(settings)
    request = SeedRequest(voters, candidates, random_seed, settings.election_date)
    staged = generate_step(request, settings.seed_staging_dir)
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        load_step(conn, staged)
        producer = reliable_producer(settings.kafka_client_config())
        publish_seed(conn, producer, staged, candidates_topic=settings.topics.candidates, voters_topic=voters_topic)


def reset_platform(settings: Settings) -> None:
    """A clean slate for a whole election: empty tables, every topic re-created empty, no checkpoint, and no
    committed offsets for the vote caster."""
    from confluent_kafka.admin import AdminClient

    from election.kafka_topics import topic_specs

    ensure_schema(settings)
    reset_election_data(settings)
    admin = AdminClient(settings.kafka_client_config())
    with contextlib.suppress(KafkaException):
        for future in admin.delete_consumer_groups([settings.vote_caster_group]).values():
            future.result(30)
    _recreate_topics(settings, [spec.name for spec in topic_specs(settings)])
    shutil.rmtree(settings.checkpoint_dir, ignore_errors=True)
