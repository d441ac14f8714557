"""Kafka clients of the platform: producing reliably (idempotent, acknowledged by every in-sync replica, every
delivery checked), and librdkafka's own log lines routed through Python logging at their real level.

librdkafka writes its warnings to stderr unless given a logger, and a task log shows stderr as errors: a healthy
producer's start ("Failed to acquire idempotence PID ... retrying") would open a successful task's log with red
ERROR lines. Every client made here logs through `election.kafka.librdkafka` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

LIBRDKAFKA_LOGGER = logging.getLogger("election.kafka.librdkafka")

# Settings only a consumer understands: a producer handed them complains (CONFWARN) in its log.
CONSUMER_ONLY = ("group.id", "auto.offset.reset", "enable.auto.commit", "enable.partition.eof", "isolation.level")

# Idempotence makes a producer retry without duplicates or reordering within a partition; acks=all makes a
# delivery report mean "stored by every in-sync replica". Batching and lz4 make a million records cheap.
RELIABLE_PRODUCER = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 512 * 1024,
    "message.timeout.ms": 120_000,
}


# A partition just created, or whose leadership is moving, answers "not leader" for a moment although the metadata
# already names its leader: worth asking again, not failing.
_TRANSIENT = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
}


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, KafkaException) and exc.args[0].code() in _TRANSIENT


@retry(retry=retry_if_exception(_transient), stop=stop_after_delay(30), wait=wait_exponential(0.1, max=2), reraise=True)
def watermarks(consumer: Consumer, topic: str, partition: int, timeout: float = 10.0) -> tuple[int, int]:
    """(low, high) offsets of one partition, asked again while the partition is briefly without a leader."""
    return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)


class DeliveryError(RuntimeError):
    """Some messages were not acknowledged by the broker."""


@dataclass
class DeliveryReport:
    topic: str
    sent: int = 0
    delivered: int = 0
    errors: list[str] = field(default_factory=list)
    # partition -> (first, last) offset of the messages delivered there
    offsets: dict[int, tuple[int, int]] = field(default_factory=dict)

    def delivered_at(self, partition: int, offset: int) -> None:
        self.delivered += 1
        first, last = self.offsets.get(partition, (offset, offset))
        self.offsets[partition] = (min(first, offset), max(last, offset))

    def check(self) -> DeliveryReport:
        if self.errors or self.delivered != self.sent:
            sample = "; ".join(self.errors[:3])
            raise DeliveryError(
                f"{self.sent - self.delivered:,} of {self.sent:,} messages to {self.topic} were not acknowledged"
                + (f": {sample}" if sample else "")
            )
        return self


def producer_config(config: dict[str, object], **overrides: object) -> dict[str, object]:
    """A client configuration made fit for a producer: consumer-only settings dropped, librdkafka's log routed."""
    settings = {key: value for key, value in config.items() if key not in CONSUMER_ONLY}
    return {**settings, "logger": LIBRDKAFKA_LOGGER, **overrides}


def reliable_producer(config: dict[str, object], **overrides: object) -> Producer:
    return Producer(producer_config(config, **{**RELIABLE_PRODUCER, **overrides}))


def consumer(config: dict[str, object], **overrides: object) -> Consumer:
    """A consumer whose librdkafka log goes through Python logging (`overrides`: group.id and the like)."""
    return Consumer({**config, "logger": LIBRDKAFKA_LOGGER, **overrides})


def produce_all(
    producer: Producer,
    topic: str,
    records: Iterable[tuple[bytes | str, bytes | str]],
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 100_000,
    flush_timeout: float = 300.0,
) -> DeliveryReport:
    """Produce `(key, value)` records, wait for every delivery report, and raise if any failed."""
    report = DeliveryReport(topic)

    def on_delivery(err: KafkaError | None, msg) -> None:
        if err is None:
            report.delivered_at(msg.partition(), msg.offset())
        elif len(report.errors) < 100:
            report.errors.append(str(err))

    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let librdkafka send and report, then retry
                producer.poll(0.05)
        report.sent += 1
        if report.sent % 10_000 == 0:
            producer.poll(0)
        if progress is not None and report.sent % progress_every == 0:
            progress(report.sent)
    deadline = time.monotonic() + flush_timeout
    while producer.flush(1.0) > 0 and time.monotonic() < deadline:
        pass
    return report.check()
