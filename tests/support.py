"""Helpers for the integration tests: resetting the election's data, reading what a run produced."""

from __future__ import annotations

import shutil

import psycopg
from confluent_kafka import Consumer, TopicPartition

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
