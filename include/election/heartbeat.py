"""Reading the vote stream's heartbeat (`election_stream_heartbeat`): is the stream live, and which elections does it
count? Used by the simulation's sensor and the dashboard's status line; the stream publishes it
(`election.streaming.runtime.Heartbeat`)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import TopicPartition

from election.kafka_io import consumer as kafka_consumer
from election.kafka_io import watermarks


@dataclass(frozen=True)
class Heartbeat:
    age: float  # seconds since the job published it
    elections: tuple[int, ...]  # the elections whose registry the job has loaded


def stream_heartbeat(
    kafka_config: dict[str, object], topic: str, group_prefix: str = "heartbeat-probe-"
) -> Heartbeat | None:
    """The streaming job's latest heartbeat (None: it never beat). Reads only the topic's last message, assigned
    (a group id of its own, `group_prefix` + a random suffix, joins no group and commits nothing)."""
    consumer = kafka_consumer(
        kafka_config, **{"group.id": f"{group_prefix}{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        newest: dict[str, Any] | None = None
        for partition in partitions:
            low, high = watermarks(consumer, topic, partition)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, high - 1)])
            message = consumer.poll(10)
            if message is not None and message.error() is None:
                beat = json.loads(message.value())
                if newest is None or beat["timestamp"] > newest["timestamp"]:
                    newest = beat
        if newest is None:
            return None
        return Heartbeat(time.time() - newest["timestamp"], tuple(newest.get("elections") or ()))
    finally:
        consumer.close()
