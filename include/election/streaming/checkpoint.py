"""Which Kafka cluster and votes topic a stream's checkpoint belongs to.

A checkpoint holds offsets of one topic of one Kafka cluster. Resumed against another cluster (another profile's
brokers, a broker whose storage was formatted again) or a votes topic deleted and created again, those offsets mean
nothing there, and Spark fails on them ("the start offset is set beyond available offset"). So the job writes where
its checkpoint's offsets come from beside the queries' checkpoints (`source.json`) on its first start, and on every
later start refuses a checkpoint of another source with a message that names the setting to change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from election.kafka_io import LIBRDKAFKA_LOGGER

log = logging.getLogger("election.streaming")

MARKER = "source.json"
SETTING = "ELECTION_CHECKPOINT_DIR"


class CheckpointMismatchError(RuntimeError):
    """The checkpoint was written against another Kafka cluster or another votes topic."""


@dataclass(frozen=True)
class Source:
    """Where a checkpoint's offsets come from: the cluster, the topic's name and its id (a topic deleted and created
    again under the same name has a new id)."""

    cluster_id: str
    topic: str
    topic_id: str


# Brokers still starting, or one restarting: ask again for a minute before the job gives up (and Airflow retries it).
@retry(
    retry=retry_if_exception_type(KafkaException),
    stop=stop_after_delay(60),
    wait=wait_exponential(0.5, max=5),
    reraise=True,
)
def current_source(client_config: dict[str, object], topic: str, timeout: float = 15.0) -> Source:
    """The source the job is about to read, asked of the brokers (metadata only: any principal that may read the
    topic may ask)."""
    admin = AdminClient({**client_config, "logger": LIBRDKAFKA_LOGGER})
    cluster_id = admin.list_topics(topic, timeout=timeout).cluster_id
    description = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)[topic].result(timeout)
    return Source(cluster_id=str(cluster_id), topic=topic, topic_id=str(description.topic_id))


def claim(checkpoint_dir: Path, source: Source) -> None:
    """Mark a new checkpoint as `source`'s, or check that an existing one is; raise CheckpointMismatchError if not."""
    marker = checkpoint_dir / MARKER
    try:
        recorded = Source(**json.loads(marker.read_text()))
    except FileNotFoundError:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a crash never leaves half a marker that would refuse a good checkpoint.
        partial = marker.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(source)))
        partial.replace(marker)
        log.info(
            "[stream] checkpoint %s: offsets of %s on Kafka cluster %s", checkpoint_dir, source.topic, source.cluster_id
        )
        return
    if recorded == source:
        return
    if recorded.cluster_id != source.cluster_id:
        what = f"another Kafka cluster (id {recorded.cluster_id}; the brokers this job reads are {source.cluster_id})"
    elif recorded.topic != source.topic:
        what = f"another votes topic ({recorded.topic}; this job reads {source.topic})"
    else:
        what = (
            f"a votes topic {source.topic} since deleted and created again (topic id {recorded.topic_id}, now "
            f"{source.topic_id})"
        )
    raise CheckpointMismatchError(
        f"the checkpoint in {checkpoint_dir} holds the offsets of {what}: they mean nothing here, so the stream "
        f"does not start. Set {SETTING} to a folder of its own for these brokers (each profile has one by default: "
        f"leave {SETTING} unset), or delete {checkpoint_dir} to count this topic's votes again from its start."
    )
