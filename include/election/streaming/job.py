"""The vote stream: one long-running Spark application that counts every election.

Two streaming queries read `votes_topic`, each with its own checkpoint under `--checkpoint-dir`:

- `vote_aggregation` (`aggregation/`): parse → check against the registry → each voter once per election →
  one aggregation, whose updated keys a foreachBatch publishes to the compacted `aggregated_*` topics, with the
  race calls they make (`election.streaming.night`) to `race_calls`;
- `vote_dead_letters` (`dead_letters/`): parse → check → the records that do not count, written by Spark's Kafka
  sink to the compacted `votes_dead_letter`, keyed by their source offset. It keeps no state at all.

The registry (every election not yet certified: its candidates and voter roll) is loaded when the queries start.
A driver loop polls PostgreSQL every few seconds; when the set of counted elections changes (an election seeded,
one certified), it stops both queries, reloads the registry and starts them again from their checkpoints: the
application keeps running, nothing is lost or counted twice. A heartbeat says which elections are counted;
election_vote_simulation casts an election's votes only once its election is among them.

Restarting after a crash (even `kill -9`) resumes from the checkpoints: no vote lost, none counted twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from confluent_kafka import Producer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from election.config import Database, Settings, Topics, get_settings
from election.kafka_io import reliable_producer
from election.streaming import checkpoint, publish, transforms
from election.streaming.night import ElectionNight
from election.streaming.registry import Registry, counted_elections
from election.streaming.runtime import (
    Heartbeat,
    Launcher,
    ProgressReporter,
    build_session,
    kafka_source,
    window_seconds,
)
from election.streaming.submit import APP_NAME

log = logging.getLogger("election.streaming")

AGGREGATION, DEAD_LETTERS = "vote_aggregation", "vote_dead_letters"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    s = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", default=s.kafka_bootstrap)
    parser.add_argument(
        "--topic-prefix", default="", help="read and write the platform's topics under this prefix (tests, benchmarks)"
    )
    parser.add_argument("--checkpoint-dir", default=str(s.checkpoint_dir))
    parser.add_argument("--trigger-interval", default=s.stream_trigger_interval)
    parser.add_argument(
        "--dead-letter-trigger-interval",
        default=s.dead_letter_trigger_interval,
        help="how often dead letters are written (they need not be as fresh as the totals)",
    )
    parser.add_argument("--shuffle-partitions", type=int, default=s.stream_shuffle_partitions)
    parser.add_argument("--window", default=s.stream_window, help="event-time window of the series, e.g. '1 minute'")
    parser.add_argument("--max-offsets-per-trigger", type=int, default=None)
    parser.add_argument("--dead-letter-max-offsets-per-trigger", type=int, default=s.dead_letter_max_offsets)
    parser.add_argument("--registry-poll-seconds", type=float, default=3.0)
    parser.add_argument(
        "--election-ids",
        type=lambda text: tuple(int(part) for part in text.split(",") if part.strip()),
        default=None,
        help="count only these elections, e.g. 4,7 (default: every election not yet certified)",
    )
    parser.add_argument(
        "--available-now", action="store_true", help="process what is in the topic, then stop (bounded run)"
    )
    parser.add_argument(
        "--count-state-rows",
        action="store_true",
        help="count the rows of the queries' state (state_rows= in the progress lines); costs a RocksDB read per write",
    )
    return parser.parse_args(argv)


@dataclass
class VoteStream:
    spark: SparkSession
    args: argparse.Namespace
    settings: Settings
    producer: Producer
    heartbeat: Heartbeat
    launcher: Launcher

    @property
    def database(self) -> Database:
        return self.settings.stream_db

    def wait_for_schema(self) -> None:
        """Until the database answers with the schema (started before election_schema ever ran, e.g. by the
        DAG's @continuous schedule on a new installation, the stream waits instead of failing)."""
        told = False
        while True:
            try:
                counted_elections(self.database, self.args.election_ids)
                return
            except (psycopg.OperationalError, psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as error:
                if not told:
                    log.warning("[stream] waiting for the schema: run election_schema (%s)", str(error).strip())
                    told = True
                time.sleep(5)

    def run(self) -> None:
        self.wait_for_schema()
        while True:
            loading = time.monotonic()
            registry = Registry.load(self.spark, self.database, self.args.shuffle_partitions, self.args.election_ids)
            log.info(
                "[stream] counting %d election(s) %s: %s registered voters",
                len(registry.elections),
                list(registry.elections),
                f"{registry.voters:,}",
            )
            log.info("[timing] registry loaded in %.1fs (%s)", time.monotonic() - loading, registry.timings)
            night = ElectionNight.load(
                self.database,
                self.settings.kafka_client_config(
                    self.settings.kafka_stream, **{"bootstrap.servers": self.args.bootstrap_servers}
                ),
                self.topics,
                self.producer,
                registry.registered,
                registry.elections,
            )
            queries = self._start(registry, night)
            self.heartbeat.elections = registry.elections
            self.heartbeat.beat()
            try:
                reload = self._supervise(queries, registry, night)
            finally:
                for query in queries:
                    if query.isActive:
                        query.stop()
                self.spark.streams.resetTerminated()
                registry.release()
            if not reload:
                return
            log.info("[stream] the elections to count changed: reloading the registry")

    # -- the queries -----------------------------------------------------------------------------------------

    @property
    def topics(self) -> Topics:
        return self.settings.topics.prefixed(self.args.topic_prefix)

    def _checked(self, registry: Registry, max_offsets_per_trigger: int | None) -> DataFrame:
        args = self.args
        source = kafka_source(
            self.spark,
            args.bootstrap_servers,
            self.topics.votes,
            max_offsets_per_trigger,
            self.settings.kafka_spark_options(self.settings.kafka_stream),
        )
        return transforms.check_votes(
            transforms.parse_votes(source), registry.roll, registry.parties, registry.elections
        )

    def _trigger(self, interval: str) -> dict:
        return {"availableNow": True} if self.args.available_now else {"processingTime": interval}

    def _start(self, registry: Registry, night: ElectionNight) -> list[StreamingQuery]:
        args = self.args
        checkpoints = Path(args.checkpoint_dir)
        window = window_seconds(args.window)
        topics = self.topics.by_dimension()

        def publish_batch(counts: DataFrame, batch_id: int) -> None:
            # Update mode: only the keys this micro-batch changed, each with its full current value. Re-sent after
            # a crash, a message repeats a value already there: harmless on a compacted topic.
            rows = [row.asDict() for row in counts.collect()]
            batch = publish.messages(
                rows,
                registered=registry.registered,
                labels=registry.labels,
                topics=topics,
                window_seconds=window,
                updated_at=dt.datetime.now(dt.UTC),
                expected_votes=night.expected_votes,
            )
            publish.produce(self.producer, batch)
            night.counted(rows)  # the calls these totals make, acknowledged before the batch commits

        context = self.spark.sparkContext
        context.setLocalProperty("spark.scheduler.pool", "totals")  # a query runs in the pool it was started in
        totals = (
            transforms.aggregate(
                transforms.counted_votes(self._checked(registry, args.max_offsets_per_trigger)), window
            )
            .writeStream.queryName(AGGREGATION)
            .outputMode("update")
            .foreachBatch(publish_batch)
            .option("checkpointLocation", str(checkpoints / "aggregation"))
            .trigger(**self._trigger(args.trigger_interval))
            .start()
        )
        # The dead letters start once the totals have run their first micro-batch: on a backlog that batch is the
        # whole backlog, and the dead letters' first tasks (the slowest: a cold JVM) would otherwise hold cores it
        # needs (measured on the 1M-vote drain: ~14 s of CPU taken from it). They catch up right after.
        while not _first_batch_done(totals):
            time.sleep(0.1)
        sink = self.settings.kafka_spark_options(self.settings.kafka_stream)
        context.setLocalProperty("spark.scheduler.pool", "dead_letters")
        letters = (
            # Small batches: its tasks are short, so whenever the totals have work the scheduler gives it to them first.
            transforms.dead_letters(
                transforms.rejected_votes(self._checked(registry, args.dead_letter_max_offsets_per_trigger))
            )
            .writeStream.queryName(DEAD_LETTERS)
            .format("kafka")
            .option("kafka.bootstrap.servers", args.bootstrap_servers)
            .options(**sink)
            .option("kafka.acks", "all")
            .option("kafka.enable.idempotence", "true")
            .option("kafka.compression.type", "lz4")
            .option("topic", self.topics.votes_dead_letter)
            .option("checkpointLocation", str(checkpoints / "dead_letters"))
            .trigger(**self._trigger(args.dead_letter_trigger_interval))
            .start()
        )
        context.setLocalProperty("spark.scheduler.pool", None)
        return [totals, letters]

    def _supervise(self, queries: list[StreamingQuery], registry: Registry, night: ElectionNight) -> bool:
        """Until the queries end (bounded run: False) or the counted elections change (True). A failed query
        raises: the job exits non-zero and Airflow brings it back."""
        if self.args.available_now:
            for query in queries:
                query.awaitTermination()
            return False
        while True:
            if self.launcher.gone():
                log.error(
                    "[stream] the process that started the job (pid %s, e.g. its Airflow task) is gone: stopping, so"
                    " that no second driver ever runs on the same checkpoints",
                    self.launcher.pid,
                )
                return False
            if self.spark.streams.awaitAnyTermination(self.args.registry_poll_seconds):
                for query in queries:
                    if query.exception() is not None:
                        raise RuntimeError(f"query {query.name} failed: {query.exception()}")
                log.info("[stream] a query was stopped: the job ends")
                return False
            try:
                if registry.changed(self.database):
                    return True
                night.poll()
            except psycopg.OperationalError as error:  # the queries need no database: they keep counting
                log.warning("[stream] PostgreSQL unreachable, asking again in a few seconds: %s", error)


def _first_batch_done(query: StreamingQuery) -> bool:
    """The query ran its first micro-batch, found nothing to do, or ended."""
    if not query.isActive or query.lastProgress is not None:
        return True
    status = query.status
    return not status["isTriggerActive"] and status["message"].startswith("Waiting")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout, force=True)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    settings = get_settings()
    kafka = settings.kafka_client_config(settings.kafka_stream, **{"bootstrap.servers": args.bootstrap_servers})
    try:
        # Before the JVM's session: a checkpoint of other brokers is refused in a second, with what to change.
        source = checkpoint.current_source(kafka, settings.topics.prefixed(args.topic_prefix).votes)
        checkpoint.claim(Path(args.checkpoint_dir), source)
    except checkpoint.CheckpointMismatchError as refused:
        log.error("[stream] %s", refused)
        sys.exit(2)
    building = time.monotonic()
    spark = build_session(APP_NAME, args.shuffle_partitions, count_state_rows=args.count_state_rows)
    log.info("[timing] Spark session in %.1fs", time.monotonic() - building)
    spark.streams.addListener(ProgressReporter())
    producer = reliable_producer(kafka)
    heartbeat = Heartbeat(producer, settings.topics.prefixed(args.topic_prefix).stream_heartbeat).start()
    started = time.monotonic()
    try:
        VoteStream(spark, args, settings, producer, heartbeat, Launcher()).run()
    finally:
        heartbeat.stop()
        producer.flush(10)
        spark.stop()
        log.info("[stream] stopped after %.0fs", time.monotonic() - started)
