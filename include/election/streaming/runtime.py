"""Run-time pieces of the vote aggregation job that touch the outside world: the Spark session, the Kafka
source, the reference data read from PostgreSQL, progress lines and the heartbeat. The transforms stay pure.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass

import psycopg
from confluent_kafka import Producer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQueryListener

from election.config import Database
from election.sql import read_sql

log = logging.getLogger("election.streaming")

STREAMING_CONF = {
    # One state row per voter for deduplication: RocksDB keeps millions off the JVM heap, and changelog
    # checkpointing commits only what changed in each micro-batch.
    "spark.sql.streaming.stateStore.providerClass": (
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
    ),
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}


def build_session(app_name: str, shuffle_partitions: int) -> SparkSession:
    builder = SparkSession.builder.appName(app_name).config("spark.sql.shuffle.partitions", shuffle_partitions)
    for key, value in STREAMING_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def kafka_source(spark: SparkSession, bootstrap: str, topic: str, max_offsets_per_trigger: int | None) -> DataFrame:
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        # Records deleted by retention before the job read them are reported, not silently skipped.
        .option("failOnDataLoss", "true")
        # On a backlog, each fetch brings a lot more than the default 1 MB.
        .option("kafka.max.partition.fetch.bytes", 8 * 2**20)
        .option("kafka.fetch.max.bytes", 64 * 2**20)
    )
    if max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", max_offsets_per_trigger)
    return reader.load()


def election_candidates(database: Database) -> list[tuple[str, str, str, str]]:
    """The election's candidates (id, name, party, photo): votes for anyone else are dead letters, and the
    per-candidate totals carry these labels. Candidates do not change during an election (election_seed refuses
    a second one), so they are read once when the job starts."""
    with psycopg.connect(database.conninfo(), connect_timeout=10) as conn:
        rows = [tuple(row) for row in conn.execute(read_sql("streaming/candidates.sql")).fetchall()]
    if not rows:
        raise SystemExit("no candidates in the election database: run election_seed first, then start the stream")
    return rows


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


@dataclass
class RegisteredVoters:
    """Registered voters per state for turnout, re-read from PostgreSQL at most every `ttl` seconds (cheap:
    one indexed GROUP BY), so a seed loaded while the stream runs shows up within a minute."""

    database: Database
    ttl: float = 30.0
    _counts: dict[str, int] | None = None
    _read_at: float = 0.0

    def counts(self) -> dict[str, int]:
        if self._counts is None or time.monotonic() - self._read_at > self.ttl:
            with psycopg.connect(self.database.conninfo(), connect_timeout=10) as conn:
                rows = conn.execute(read_sql("streaming/registered_voters.sql")).fetchall()
            self._counts = {state: int(n) for state, n in rows}
            self._read_at = time.monotonic()
        return self._counts


class ProgressReporter(StreamingQueryListener):
    """One line per micro-batch in the driver's output (which the Airflow task log shows), and a heartbeat
    message every few seconds while the queries are alive (which election_vote_simulation's sensor awaits)."""

    def __init__(self, producer: Producer | None, heartbeat_topic: str, every: float = 2.0) -> None:
        self.producer = producer
        self.heartbeat_topic = heartbeat_topic
        self.every = every
        self._last_beat = 0.0

    def _beat(self, query: str, batch_id: int | None) -> None:
        now = time.time()
        if self.producer is None or now - self._last_beat < self.every:
            return
        self._last_beat = now
        beat = {"job": "vote_aggregation", "query": query, "batch_id": batch_id, "timestamp": now}
        self.producer.produce(self.heartbeat_topic, key=b"vote_aggregation", value=json.dumps(beat).encode())
        self.producer.poll(0)

    def onQueryStarted(self, event) -> None:  # noqa: N802 - Spark's listener API
        _say(f"[stream] query {event.name} started (id {event.id})")

    def onQueryProgress(self, event) -> None:  # noqa: N802 - Spark's listener API
        p = event.progress
        state_rows = sum(op.numRowsTotal for op in p.stateOperators)
        duration = p.durationMs.get("triggerExecution", 0)
        _say(
            f"[progress] {p.name} batch={p.batchId} input={p.numInputRows} rows "
            f"({p.processedRowsPerSecond:.0f} rows/s) duration={duration}ms state_rows={state_rows}"
        )
        self._beat(p.name, p.batchId)

    def onQueryIdle(self, event) -> None:  # noqa: N802 - Spark's listener API
        self._beat("idle", None)

    def onQueryTerminated(self, event) -> None:  # noqa: N802 - Spark's listener API
        _say(f"[stream] query {event.id} terminated" + (f": {event.exception}" if event.exception else ""))


def _say(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
