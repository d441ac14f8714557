"""The platform's Kafka topics: how many partitions, which are compacted, and creating them idempotently."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from election.config import Settings, Topics

# An aggregated topic holds the full current value per key, so only the latest message per key matters:
# compaction keeps the topic small however long the election runs. Short segments let the cleaner act
# during a demo rather than after the default week.
COMPACTED = {
    "cleanup.policy": "compact",
    "segment.ms": str(5 * 60 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)
    replication: int = 1

    @property
    def compacted(self) -> bool:
        return self.config.get("cleanup.policy") == "compact"


def topic_specs(settings: Settings, topics: Topics | None = None) -> list[TopicSpec]:
    """Every topic the platform uses, as `make up` creates it (`topics`: other names for the same topics)."""
    t = topics or settings.topics
    specs = [
        TopicSpec(t.voters, settings.voters_partitions),
        TopicSpec(t.candidates, 1),
        TopicSpec(t.votes, settings.votes_partitions),
        *(TopicSpec(name, 1, dict(COMPACTED)) for name in t.aggregated()),
        # Keyed by the source record's topic:partition:offset: a replayed record overwrites its own dead letter.
        TopicSpec(t.votes_dead_letter, 1, dict(COMPACTED)),
        # Each state's race call (and the national call), keyed <election_id>:<state>: published once, never changed.
        TopicSpec(t.race_calls, 1, dict(COMPACTED)),
        # Each certified election's final result, keyed by its id.
        TopicSpec(t.election_results, 1, dict(COMPACTED)),
        # The streaming job's liveness: one small message every few seconds, kept for an hour.
        TopicSpec(t.stream_heartbeat, 1, {"retention.ms": str(60 * 60 * 1000)}),
    ]
    return [replicated(spec, settings) for spec in specs]


def replicated(spec: TopicSpec, settings: Settings) -> TopicSpec:
    """The spec with the cluster's durability settings: `ELECTION_KAFKA_REPLICATION_FACTOR` copies, an acks=all
    write acknowledged once `ELECTION_KAFKA_MIN_INSYNC_REPLICAS` of them hold it, and a replica that missed
    records never elected leader (unclean election off: it would lose them)."""
    factor, in_sync = settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    if not 1 <= in_sync <= factor:
        raise ValueError(
            f"ELECTION_KAFKA_MIN_INSYNC_REPLICAS ({in_sync}) must be between 1 and ELECTION_KAFKA_REPLICATION_FACTOR "
            f"({factor})"
        )
    config = {**spec.config, "min.insync.replicas": str(in_sync), "unclean.leader.election.enable": "false"}
    return TopicSpec(spec.name, spec.partitions, config, factor)


def ensure_topics(settings: Settings, *, timeout: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet, and give existing ones the settings of their spec (an upgrade may
    change them: the dead-letter topic became compacted); return the names created. Their records are left alone."""
    admin = AdminClient(settings.kafka_client_config())
    existing = set(admin.list_topics(timeout=timeout).topics)
    _align_configs(admin, [spec for spec in topic_specs(settings) if spec.name in existing and spec.config], timeout)
    missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
    return create_topics(admin, missing, timeout=timeout)


def create_topics(admin: AdminClient, specs: list[TopicSpec], *, timeout: float = 30.0) -> list[str]:
    """Create these topics (one already there counts as created by someone else) and return once every partition of
    each has a leader: a client asking a just-created partition for its offsets is otherwise told "not leader"."""
    if not specs:
        return []
    futures = admin.create_topics(
        [
            NewTopic(s.name, num_partitions=s.partitions, replication_factor=s.replication, config=s.config)
            for s in specs
        ],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            # Another process creating the same topic concurrently is as good as creating it ourselves.
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    _wait_for_leaders(admin, specs, timeout)
    return created


def _wait_for_leaders(admin: AdminClient, specs: list[TopicSpec], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = {spec.name: spec.partitions for spec in specs}
    while pending:
        for name, count in list(pending.items()):
            found = admin.list_topics(name, timeout=timeout).topics[name]
            parts = found.partitions.values()
            if found.error is None and len(parts) == count and all(p.leader >= 0 and p.error is None for p in parts):
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"no leader after {timeout:.0f} s for the partitions of {sorted(pending)}")
        if pending:
            time.sleep(0.1)


def _align_configs(admin: AdminClient, specs: list[TopicSpec], timeout: float) -> None:
    """Set each spec's settings on its existing topic, only where they differ."""
    if not specs:
        return
    resources = [ConfigResource(ResourceType.TOPIC, spec.name) for spec in specs]
    described = admin.describe_configs(resources, request_timeout=timeout)
    changes = []
    for spec, resource in zip(specs, resources, strict=True):
        current = {name: entry.value for name, entry in described[resource].result().items()}
        differing = {name: value for name, value in spec.config.items() if current.get(name) != value}
        if differing:
            changes.append(
                ConfigResource(
                    ResourceType.TOPIC,
                    spec.name,
                    incremental_configs=[
                        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
                        for name, value in differing.items()
                    ],
                )
            )
    for future in admin.incremental_alter_configs(changes, request_timeout=timeout).values() if changes else []:
        future.result()
