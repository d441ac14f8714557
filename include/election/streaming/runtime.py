"""Run-time pieces of the vote stream that touch the outside world: the Spark session, the Kafka source and sink
options, progress lines and the heartbeat. The transforms stay pure.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import psutil
from confluent_kafka import KafkaException, Producer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQueryListener

log = logging.getLogger("election.streaming")

STREAMING_CONF = {
    # One state row per voter for deduplication: RocksDB keeps millions off the JVM heap, and changelog
    # checkpointing commits only what changed in each micro-batch.
    "spark.sql.streaming.stateStore.providerClass": (
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
    ),
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    # The only join is the votes against the registry's roll, which is kept partitioned and sorted like the votes'
    # shuffle (election.streaming.registry): a sort-merge join reads it in place. A roll under the broadcast threshold
    # (~100k voters) would instead be collected, hashed and broadcast again in every micro-batch of both queries
    # (measured: a job of its own, 150-300 ms a batch).
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    # The only Arrow transfer is the registry's roll into Spark: one partition per Arrow batch, so the default 10,000
    # rows made 100 tasks of a 1M-voter roll (measured: 4.3 s of the job's start).
    "spark.sql.execution.arrow.maxRecordsPerBatch": "250000",
    # Kafka source and sink options carry SASL credentials (kafka.sasl.jaas.config): never shown in plans or the UI.
    "spark.sql.redaction.options.regex": "(?i)url|jaas|password|secret",
    "spark.redaction.regex": "(?i)secret|password|token|access[.]?key|jaas",
}


# The most records one task of the Kafka source reads (its option maxRecordsPerPartition).
MAX_RECORDS_PER_TASK = 50_000


def build_session(app_name: str, shuffle_partitions: int, *, count_state_rows: bool = False) -> SparkSession:
    """The job's session. `count_state_rows`: RocksDB keeps the number of state rows (the progress lines'
    `state_rows`), at the cost of a read before every write: off, the 1M-vote drain's deduplication stage went from
    13.5 s to 9.1 s (measured). The tests that watch the state's size turn it on."""
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.shuffle.partitions", shuffle_partitions)
        .config("spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows", str(count_state_rows).lower())
    )
    for key, value in STREAMING_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def kafka_source(
    spark: SparkSession,
    bootstrap: str,
    topic: str,
    max_offsets_per_trigger: int | None,
    client_options: dict[str, str] | None = None,
) -> DataFrame:
    """`topic` from its beginning; `client_options`: the Java client's authentication (`kafka.`-prefixed)."""
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .options(**(client_options or {}))
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        # Records deleted by retention before the job read them are reported, not silently skipped.
        .option("failOnDataLoss", "true")
        # On a backlog, each fetch brings a lot more than the default 1 MB.
        .option("kafka.max.partition.fetch.bytes", 8 * 2**20)
        .option("kafka.fetch.max.bytes", 64 * 2**20)
        # A backlog is split into tasks of at most this many records instead of one task per topic partition: with
        # 3 partitions on 2 cores the third task ran alone after the first two (measured on the 1M-vote drain: the
        # read-and-parse stage took 30 s for 18 s of CPU). A live micro-batch (a few thousand votes) is not split.
        .option("maxRecordsPerPartition", MAX_RECORDS_PER_TASK)
    )
    if max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", max_offsets_per_trigger)
    return reader.load()


_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def window_seconds(duration: str) -> int:
    """ "1 minute", "30 seconds", "2 hours" -> seconds."""
    try:
        amount, unit = duration.split()
        seconds = int(amount) * _UNITS[unit.lower().rstrip("s")]
    except (ValueError, KeyError):
        raise SystemExit(f"window must read like '1 minute' or '30 seconds', got {duration!r}") from None
    if seconds <= 0:
        raise SystemExit(f"window must be positive, got {duration!r}")
    return seconds


class ProgressReporter(StreamingQueryListener):
    """One line per micro-batch in the driver's output (which the Airflow task log shows)."""

    def onQueryStarted(self, event) -> None:  # noqa: N802 - Spark's listener API
        log.info("[stream] query %s started (id %s)", event.name, event.id)

    def onQueryProgress(self, event) -> None:  # noqa: N802 - Spark's listener API
        p = event.progress
        state_rows = sum(op.numRowsTotal for op in p.stateOperators)  # 0 unless the job counts them
        duration = p.durationMs.get("triggerExecution", 0)
        parts = " ".join(f"{k}={v}" for k, v in sorted(p.durationMs.items()) if k != "triggerExecution" and v)
        log.info(
            "[progress] %s batch=%s input=%s rows (%.0f rows/s) duration=%sms state_rows=%s (%s)",
            p.name,
            p.batchId,
            p.numInputRows,
            p.processedRowsPerSecond,
            duration,
            state_rows,
            parts,
        )

    def onQueryIdle(self, event) -> None:  # noqa: N802 - Spark's listener API
        pass

    def onQueryTerminated(self, event) -> None:  # noqa: N802 - Spark's listener API
        log.info("[stream] query %s terminated%s", event.id, f": {event.exception}" if event.exception else "")


class Launcher:
    """Whoever started the job (the Airflow task, a benchmark), watched so that the job never outlives it.

    A task process killed without its children (a Celery worker's main process lost, not its whole machine) leaves
    spark-submit running: the task's retry would then start a second driver on the same checkpoint. The driver's
    Python runs under spark-submit's JVM, whose parent is the launcher; once the JVM (or, run without spark-submit,
    the driver itself) is handed to another parent, the launcher is gone. A job started by PID 1 (a container's
    init) never sees that happen.
    """

    def __init__(self) -> None:
        me = psutil.Process()
        parent = me.parent()
        under_jvm = parent is not None and any("SparkSubmit" in part for part in parent.cmdline())
        self._watched = parent if under_jvm else me
        self.pid = self._watched.ppid()

    def gone(self) -> bool:
        try:
            return self._watched.ppid() != self.pid
        except psutil.NoSuchProcess:  # spark-submit's JVM itself is gone
            return True


class Heartbeat:
    """A message on the heartbeat topic every `every` seconds while the job runs: that it is alive, and which
    elections it counts (election_vote_simulation waits until its election is among them)."""

    def __init__(self, producer: Producer, topic: str, every: float = 2.0) -> None:
        self.producer, self.topic, self.every = producer, topic, every
        self.elections: tuple[int, ...] = ()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> None:
        value = {"job": "vote_aggregation", "timestamp": time.time(), "elections": list(self.elections)}
        self.producer.produce(self.topic, key=b"vote_aggregation", value=json.dumps(value).encode())
        self.producer.poll(0)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except (BufferError, KafkaException) as error:  # the broker is away: the next beat tries again
                log.warning("heartbeat not sent: %s", error)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
