"""Kafka authenticates every client and authorizes every principal, tried as an intruder would: no credentials, a
wrong password, and each application principal doing what it is not for."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from election.config import KafkaPrincipal, Settings


def _producer(settings: Settings, principal: KafkaPrincipal) -> Producer:
    return Producer(settings.kafka_client_config(principal, **{"message.timeout.ms": 8000, "acks": "all"}))


def _produce_error(settings: Settings, principal: KafkaPrincipal, topic: str) -> KafkaError | None:
    errors: list[KafkaError | None] = []
    producer = _producer(settings, principal)
    producer.produce(
        topic, key=b"intruder", value=json.dumps({"forged": True}), on_delivery=lambda e, m: errors.append(e)
    )
    producer.flush(15)
    return errors[0] if errors else KafkaError(KafkaError._MSG_TIMED_OUT)


def test_a_client_without_credentials_is_refused(settings: Settings) -> None:
    anonymous = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "socket.timeout.ms": 3000})
    with pytest.raises(KafkaException):
        anonymous.list_topics(timeout=5)


def test_a_wrong_password_is_refused(settings: Settings) -> None:
    wrong = KafkaPrincipal(settings.kafka_caster.username, "not-the-password")
    client = AdminClient(settings.kafka_client_config(wrong, **{"socket.timeout.ms": 3000}))
    with pytest.raises(KafkaException):
        client.list_topics(timeout=5)


@pytest.mark.parametrize(
    ("who", "topic"),
    [
        ("kafka_dashboard", "votes"),  # the dashboard only reads
        ("kafka_seed", "votes"),  # only the caster writes votes
        ("kafka_caster", "votes_per_candidate"),  # the caster cannot forge results
        ("kafka_stream", "voters"),  # the stream cannot forge voters
        ("kafka_dashboard", "votes_dead_letter"),
    ],
)
def test_a_principal_cannot_write_what_it_is_not_for(settings: Settings, who: str, topic: str) -> None:
    error = _produce_error(settings, getattr(settings, who), getattr(settings.topics, topic))
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error


def test_each_principal_may_do_its_own_job(settings: Settings) -> None:
    """The caster writes votes; the dashboard reads the results (positive controls of the refusals above)."""
    marker = f"acl-check-{uuid.uuid4().hex}"
    # a record the stream sets aside as malformed: it never counts for anyone
    producer = _producer(settings, settings.kafka_caster)
    errors: list = []
    producer.produce(settings.topics.votes, key=marker, value=b"{not a vote", on_delivery=lambda e, m: errors.append(e))
    producer.flush(15)
    assert errors == [None]
    consumer = Consumer(
        settings.kafka_client_config(
            settings.kafka_dashboard, **{"group.id": f"election-dashboard-{marker}", "enable.auto.commit": False}
        )
    )
    try:
        topic = settings.topics.votes_per_candidate
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        assert high >= low
    finally:
        consumer.close()
