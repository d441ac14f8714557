"""What election_vote_simulation waits for before casting votes, and sensors that say why they gave up.

- Voters are on voters_topic: the Kafka provider's AwaitMessageSensor, deferred to the triggerer, which imports
  `first_voter` by its dotted path (so this module must stay importable there: no service touched on import).
- The streaming job is live: its heartbeat on election_stream_heartbeat is recent (`stream_heartbeat_age`).

Both fail, when they time out, with a message that says what to do.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from airflow.providers.apache.kafka.sensors.kafka import AwaitMessageSensor
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferralTimeout
from confluent_kafka import Consumer, TopicPartition

from election.voting.voter_messages import BadMessageError, parse_voter


def first_voter(message: Any) -> str | None:
    """AwaitMessageSensor's apply_function: the voter_id of a well-formed voter record, else None (keep waiting)."""
    try:
        return parse_voter(message.value()).voter_id
    except BadMessageError:
        return None


def stream_heartbeat_age(kafka_config: dict[str, object], topic: str) -> float | None:
    """Seconds since the streaming job's last heartbeat (None: it never beat). Reads only the topic's last
    message, with no consumer group of its own."""
    consumer = Consumer(
        {**kafka_config, "group.id": f"heartbeat-probe-{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        newest = None
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, high - 1)])
            message = consumer.poll(10)
            if message is not None and message.error() is None:
                beat = json.loads(message.value())["timestamp"]
                newest = beat if newest is None else max(newest, beat)
        return None if newest is None else time.time() - newest
    finally:
        consumer.close()


class _ExplainsTimeout:
    """Replaces a sensor's generic timeout error with `timeout_message` (what the user should do)."""

    timeout_message: str

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSensorTimeout as error:
            raise AirflowSensorTimeout(self.timeout_message) from error

    def resume_execution(self, next_method, next_kwargs, context):
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except (AirflowSensorTimeout, TaskDeferralTimeout) as error:
            raise AirflowSensorTimeout(self.timeout_message) from error


class VotersAvailableSensor(_ExplainsTimeout, AwaitMessageSensor):
    """Waits, deferred on the triggerer, until a well-formed voter record is on the voters topic."""

    def __init__(self, *, timeout_message: str, **kwargs: Any) -> None:
        super().__init__(apply_function=f"{__name__}.first_voter", **kwargs)
        self.timeout_message = timeout_message


class StreamLiveSensor(_ExplainsTimeout, BaseSensorOperator):
    """Waits until the streaming job's heartbeat is at most `max_age` seconds old."""

    def __init__(self, *, kafka_conn_id: str, topic: str, max_age: float, timeout_message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kafka_conn_id, self.topic, self.max_age = kafka_conn_id, topic, max_age
        self.timeout_message = timeout_message

    def poke(self, context) -> bool:
        from election.airflow_io import kafka_config

        age = stream_heartbeat_age(kafka_config(self.kafka_conn_id), self.topic)
        self.log.info("stream heartbeat: %s", "none yet" if age is None else f"{age:.1f}s old")
        return age is not None and age <= self.max_age
