"""Reading compacted topics, whose meaning is the latest value of each key (what the streaming job publishes).

`LatestByKey` folds messages into that meaning, whatever their order and however often they are seen; the
dashboard's long-lived feed applies it message by message, `latest_values` reads a topic once to its end (the
demo, the tests).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from election.kafka_io import consumer as kafka_consumer
from election.kafka_io import watermarks


class LatestByKey:
    """The latest value of every key of a compacted topic, from messages seen in any order, any number of times.

    "Latest" is the highest offset of the key's partition: what compaction itself keeps. A repeated or older
    message never replaces a newer one; a tombstone (no value) removes its key.
    """

    def __init__(self, keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """`keep`: what to hold of each value (all of it by default), for topics whose values are big."""
        self._entries: dict[str, tuple[int, int, dict[str, Any] | None]] = {}  # key -> (partition, offset, value)
        self._keep = keep
        self.version = 0  # bumped on every change, so frames are rebuilt only when something changed
        self.rejected = 0

    def apply(self, partition: int, offset: int, key: str, value: bytes | None) -> None:
        current = self._entries.get(key)
        if current is not None and current[0] == partition and current[1] >= offset:
            return  # a repeat or an older value of this key
        decoded: dict[str, Any] | None = None
        if value is not None:  # None: a tombstone, remembered so an older value cannot bring the key back
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict):
                self.rejected += 1
                return
            if self._keep is not None:
                decoded = self._keep(decoded)
        self._entries[key] = (partition, offset, decoded)
        self.version += 1

    def values(self) -> list[dict[str, Any]]:
        return [entry[2] for entry in self._entries.values() if entry[2] is not None]

    def items(self) -> dict[str, dict[str, Any]]:
        return {key: entry[2] for key, entry in self._entries.items() if entry[2] is not None}

    def __len__(self) -> int:
        return sum(entry[2] is not None for entry in self._entries.values())

    def clear(self) -> None:
        if self._entries:
            self._entries.clear()
            self.version += 1


def latest_values(config: dict[str, object], topic: str, timeout: float = 30.0) -> dict[str, dict[str, Any]]:
    """What a compacted topic says now: the last JSON value of each key, read to the end of every partition with
    no consumer group (nothing committed)."""
    consumer = kafka_consumer(config, **{"group.id": f"latest-{uuid.uuid4().hex}", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: watermarks(consumer, topic, p)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p, end in ends.items() if end > 0])
        latest = LatestByKey()
        pending = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} could not be read to its end within {timeout:.0f}s")
            for message in consumer.consume(num_messages=10_000, timeout=0.2):
                if message.error() is None and message.key() is not None:
                    latest.apply(message.partition(), message.offset(), message.key().decode(), message.value())
            positions = consumer.position([TopicPartition(topic, p) for p in pending])
            pending = {tp.partition for tp in positions if tp.offset < ends[tp.partition]}
        return latest.items()
    finally:
        consumer.close()
