"""Benchmark of the vote aggregation job's freshness: at a steady 2,000 votes/s, the delay from a vote being
produced to its effect appearing in the per-candidate totals (p50/p95/p99/max), and the driver's peak
resident memory.

A vote's effect has appeared when the candidate's published total reaches the vote's rank among that
candidate's votes. Runs the job as Airflow does (continuous micro-batches, 1 s trigger, registry checks) on an
election and topics of its own.

The votes of the first `--warmup` seconds (45) are not in the figure, and their delays are printed apart: until the
JVM has compiled its hot paths the job runs barely faster than the votes arrive, and the backlog of its first
micro-batches took about 30 s to clear (measured: delays falling from ~7 s to a steady ~2-3 s over the first 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time
from collections import defaultdict

from confluent_kafka import Consumer, TopicPartition
from helpers import results
from helpers.stats import percentile
from helpers.stream import MemorySampler, ballots, start_job
from helpers.workspace import table, workspace

from election.config import get_settings
from election.kafka_io import reliable_producer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=2_000, help="votes per second")
    parser.add_argument("--seconds", type=int, default=60, help="measured period")
    parser.add_argument(
        "--warmup",
        type=int,
        default=45,
        help="seconds at the same rate before the measured period (its delays are printed apart: the JVM's warm-up)",
    )
    parser.add_argument("--verbose", action="store_true", help="print the job's last progress lines")
    args = parser.parse_args()
    settings = get_settings()
    total_votes = args.rate * (args.seconds + args.warmup)
    with workspace(settings, "fresh") as space:
        votes = ballots(space, space.new_election(total_votes, publish=False))
        with tempfile.TemporaryDirectory(prefix="bench-fresh-", dir=settings.state_dir) as checkpoint:
            job = start_job(space, checkpoint)
            sampler = MemorySampler(job.pid)
            started = threading.Event()
            progress: list[str] = []

            def read_output() -> None:
                for line in job.stdout:
                    if line.startswith("[stream] query"):
                        started.set()
                    elif line.startswith(("[progress]", "[timing]")):
                        progress.append(line)

            threading.Thread(target=read_output, daemon=True).start()
            try:
                if not started.wait(180):
                    raise SystemExit("the job did not start within 3 minutes")
                warming, delays = measure(settings, space, votes, args)
            finally:
                peak = sampler.stop()
                os.killpg(job.pid, signal.SIGTERM)
                job.wait(60)

    if args.verbose:
        print("".join(progress[-15:]))
    p95 = percentile(delays, 95)
    rows = [
        ("votes measured", f"{len(delays):,} (after {args.warmup} s warm-up)"),
        ("warm-up p95 / max (not in the figure)", f"{percentile(warming, 95):.2f} s / {max(warming, default=0):.2f} s"),
        ("p50 delay", f"{percentile(delays, 50):.2f} s"),
        ("p95 delay", f"{p95:.2f} s"),
        ("p99 delay", f"{percentile(delays, 99):.2f} s"),
        ("max delay", f"{max(delays):.2f} s"),
        ("driver peak RSS (JVM + Python)", f"{peak:,.0f} MiB"),
    ]
    print(
        f"\nstreaming freshness benchmark: {args.rate:,} votes/s for {args.seconds} s, trigger "
        f"{settings.stream_trigger_interval}"
    )
    print(table(rows, ("measure", "value")))
    results.record(settings, "freshness_p95", p95, "s")


def measure(settings, space, votes, args) -> tuple[list[float], list[float]]:
    """(delays of the votes produced during the warm-up, delays of the measured ones)."""
    produced: dict[str, list[float]] = defaultdict(list)  # candidate -> produce time of its n-th vote
    lock = threading.Lock()
    measure_from = time.perf_counter() + args.warmup
    producer = reliable_producer(settings.kafka_client_config(), **{"linger.ms": 5})
    done = threading.Event()

    def produce() -> None:
        start = time.perf_counter()
        chunk = max(1, args.rate // 50)  # 50 chunks a second
        for i in range(0, len(votes), chunk):
            target = start + i / args.rate
            pause = target - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            for ballot in votes[i : i + chunk]:
                with lock:
                    produced[ballot.candidate_id].append(time.perf_counter())
                producer.produce(space.topics.votes, key=ballot.key, value=ballot.payload)
            producer.poll(0)
        producer.flush(30)
        done.set()

    consumer = Consumer(settings.kafka_client_config(**{"group.id": "bench-fresh", "enable.auto.commit": False}))
    consumer.assign([TopicPartition(space.topics.votes_per_candidate, 0, 0)])
    counted: dict[str, int] = defaultdict(int)
    delays: list[float] = []
    warming: list[float] = []
    threading.Thread(target=produce, daemon=True).start()
    deadline = time.perf_counter() + args.warmup + args.seconds + 60
    while time.perf_counter() < deadline:
        for msg in consumer.consume(1_000, timeout=0.05):
            if msg.error() is not None:
                continue
            seen = time.perf_counter()
            value = json.loads(msg.value())
            candidate, total = value["candidate_id"], value["total_votes"]
            with lock:
                times = produced[candidate]
                for rank in range(counted[candidate], min(total, len(times))):
                    (delays if times[rank] >= measure_from else warming).append(seen - times[rank])
                counted[candidate] = max(counted[candidate], total)
        if done.is_set() and sum(counted.values()) >= len(votes):
            break
    consumer.close()
    return warming, delays


if __name__ == "__main__":
    main()
