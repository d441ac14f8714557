"""Benchmark of the vote stream draining a backlog: 1,000,000 votes of an election already in the votes topic.

The job runs as it does under Airflow (continuous micro-batches, both queries, the registry checks against the
election's 1,000,000 registered voters), and the benchmark watches its output topics. Prints the start time
(launch to first query started: the JVM, the session and the registry's roll loaded), the drain time (first query
started to the per-candidate totals adding up to every vote), when the per-minute series caught up, the raw read
rate of a plain confluent-kafka consumer on the same topic (the ceiling), the job's rate as a ratio of it, and the
driver's peak resident memory. Runs on an election and topics of its own (`make bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time

from confluent_kafka import Consumer, TopicPartition
from helpers import results
from helpers.stream import MemorySampler, ballots, start_job
from helpers.workspace import table, workspace

from election.config import get_settings
from election.kafka_io import produce_all, reliable_producer


def raw_consumer_rate(settings, topic: str, expected: int) -> float:
    consumer = Consumer(
        settings.kafka_client_config(
            **{"group.id": "bench-raw", "enable.auto.commit": False, "fetch.max.bytes": 64 * 2**20}
        )
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    start, read = time.perf_counter(), 0
    while read < expected:
        read += sum(1 for msg in consumer.consume(10_000, timeout=5) if msg.error() is None)
    elapsed = time.perf_counter() - start
    consumer.close()
    return read / elapsed


class LatestValues:
    """Follows a compacted topic with one long-lived consumer: the latest value of a field per key."""

    def __init__(self, settings, topic: str, field: str) -> None:
        self.field = field
        self.latest: dict[str, int] = {}
        self.consumer = Consumer(
            settings.kafka_client_config(**{"group.id": f"bench-{topic}", "enable.auto.commit": False})
        )
        self.consumer.assign([TopicPartition(topic, 0, 0)])

    def total(self) -> int:
        for msg in self.consumer.consume(10_000, timeout=0.2):
            if msg.error() is None:
                self.latest[msg.key().decode()] = json.loads(msg.value())[self.field]
        return sum(self.latest.values())

    def close(self) -> None:
        self.consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--verbose", action="store_true", help="print the job's progress lines")
    args = parser.parse_args()
    settings = get_settings()
    with workspace(settings, "drain") as space:
        print(f"seeding {args.votes:,} voters and producing one vote each ...", flush=True)
        votes = ballots(space, space.new_election(args.votes, publish=False))
        produce_all(
            reliable_producer(settings.kafka_client_config()),
            space.topics.votes,
            ((b.key, b.payload) for b in votes),
        )
        ceiling = raw_consumer_rate(settings, space.topics.votes, len(votes))

        with tempfile.TemporaryDirectory(prefix="bench-drain-", dir=settings.state_dir) as checkpoint:
            launched = time.perf_counter()
            job = start_job(space, checkpoint)
            sampler = MemorySampler(job.pid)
            started: list[float] = []
            lines: list[str] = []

            def read_output() -> None:
                for line in job.stdout:
                    lines.append(line)
                    if not started and line.startswith("[stream] query"):
                        started.append(time.perf_counter())

            threading.Thread(target=read_output, daemon=True).start()
            candidates = LatestValues(settings, space.topics.votes_per_candidate, "total_votes")
            series = LatestValues(settings, space.topics.votes_over_time, "votes")
            final = caught_up = None
            deadline = launched + args.timeout
            try:
                while caught_up is None:
                    if job.poll() is not None:
                        raise SystemExit("the job stopped:\n" + "".join(lines[-40:]))
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"not drained within {args.timeout:.0f} s")
                    if final is None and candidates.total() == len(votes):
                        final = time.perf_counter()
                    if final is not None and series.total() == len(votes):
                        caught_up = time.perf_counter()
            finally:
                peak = sampler.stop()
                candidates.close()
                series.close()
                os.killpg(job.pid, signal.SIGTERM)
                job.wait(60)

    jvm_start = started[0] - launched
    drain = final - started[0]
    rate = len(votes) / drain
    rows = [
        ("start (launch to first query: JVM, session, registry)", f"{jvm_start:.1f} s"),
        ("drain (first query started to final totals)", f"{drain:.1f} s"),
        ("per-minute series caught up (same origin)", f"{caught_up - started[0]:.1f} s"),
        ("job rate", f"{rate:,.0f} votes/s"),
        ("plain confluent-kafka consumer (ceiling)", f"{ceiling:,.0f} msgs/s"),
        ("job rate / ceiling", f"{rate / ceiling:.1%}"),
        ("driver peak RSS (JVM + Python)", f"{peak:,.0f} MiB"),
    ]
    print(
        f"\nstreaming drain benchmark: {len(votes):,} votes, shuffle partitions {settings.stream_shuffle_partitions},"
        f" Spark {settings.spark_master}"
    )
    print(table(rows, ("measure", "value")))
    results.record(settings, "stream_drain", rate, "votes/s", ceiling=ceiling)
    results.record(settings, "stream_jvm_start", jvm_start, "s")
    if args.verbose:
        print("".join(line for line in lines if line.startswith("[")))


if __name__ == "__main__":
    main()
