"""The Kafka broker of the local stack: the contract's topics exist, keyed produce and consume work."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from election.config import Settings
from election.kafka_topics import topic_specs


def test_contract_topics_exist_with_their_partitions_and_compaction(settings: Settings, admin: AdminClient) -> None:
    metadata = admin.list_topics(timeout=10)
    specs = {spec.name: spec for spec in topic_specs(settings)}
    assert set(specs) <= set(metadata.topics)
    assert len(metadata.topics[settings.topics.votes].partitions) >= 3
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in specs]
    for resource, future in admin.describe_configs(resources).items():
        policy = future.result(timeout=10)["cleanup.policy"].value
        expected = specs[resource.name].config.get("cleanup.policy", "delete")
        assert policy == expected, resource.name
    assert {settings.topics.voters, settings.topics.candidates, settings.topics.votes_dead_letter} <= set(specs)
    compacted = {name for name, spec in specs.items() if spec.compacted}
    assert {
        *settings.topics.aggregated(),
        settings.topics.votes_dead_letter,
        settings.topics.election_results,
    } <= compacted


def test_keyed_messages_round_trip_and_keep_per_key_partitioning(settings: Settings, scratch_topic: str) -> None:
    producer = Producer(settings.kafka_client_config(**{"enable.idempotence": True, "acks": "all"}))
    sent = {f"voter-{i}": f'{{"n": {i}}}' for i in range(60)}
    delivered = []
    for key, value in sent.items():
        producer.produce(scratch_topic, key=key, value=value, on_delivery=lambda err, msg: delivered.append((err, msg)))
    assert producer.flush(30) == 0
    assert all(err is None for err, _ in delivered)
    partition_of = {msg.key().decode(): msg.partition() for _, msg in delivered}
    assert len(set(partition_of.values())) == 3, "60 keys should spread over the 3 partitions"

    consumer = Consumer(
        settings.kafka_client_config(
            **{
                "group.id": f"smoke-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
    )
    consumer.subscribe([scratch_topic])
    received: dict[str, tuple[str, int]] = {}
    try:
        for _ in range(200):
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                received[msg.key().decode()] = (msg.value().decode(), msg.partition())
            if len(received) == len(sent):
                break
    finally:
        consumer.close()
    assert {k: v for k, (v, _) in received.items()} == sent
    assert {k: p for k, (_, p) in received.items()} == partition_of
