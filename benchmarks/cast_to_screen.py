"""Benchmark of the whole path as a viewer sees it: a vote committed in PostgreSQL until the "Votes cast" figure on
the dashboard, open in headless Chromium, counts it (p50/p95/max).

Everything is the benchmark's own: an election, its topics (a workspace), the stream job counting only that election,
and a Streamlit server of the dashboard on a free port reading those topics (the platform's own dashboard and stream
are left alone). Votes are cast through the DAG's caster at `--rate` votes/s (batches of about a fifth of a second,
each committed and then acknowledged by Kafka).

Inside the clock, per vote: its batch's commit, the caster's produce (acks=all), the stream's micro-batch (trigger
`ELECTION_STREAM_TRIGGER_INTERVAL`), the aggregate's publication, the dashboard's refresh (the page's default, 2 s)
and the browser's render. A vote's commit time is when PostgreSQL's recorded count (polled every 50 ms) first
reached its rank; its screen time, when the figure on the page (read every 100 ms) first did. Casting starts once
the job's queries run and the page shows the election; the first `--warmup` seconds of votes are not measured. For
scale, the dashboard's refresh interval is printed beside the figures: half of it is the mean wait a page adds on
its own.

Where the time goes: a third series, the sum of the election's per-candidate totals on `votes_per_candidate` as a
consumer of the benchmark's own reads them, splits each vote's delay at its publication: commit -> published (the
caster's produce, the stream's micro-batch, the aggregate's publication) and published -> screen (the page's
refresh, its read of the topics, the render). The job's `[progress]` lines of the measured period give its
micro-batches: how many, how long, and the mean of each part Spark reports; the CPU each party used over the
casting (in cores: CPU seconds per second) beside the machine's, whose cores they all share.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import json
import os
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from confluent_kafka import Consumer, TopicPartition
from helpers import results
from helpers.cpu import CpuShares, cpu_by_process
from helpers.stats import percentile
from helpers.stream import start_job
from helpers.workspace import table, workspace

from election.config import get_settings
from election.voting.caster import CastRequest, cast_election
from localstack.dashboard import service as dashboard_service
from localstack.process import Service, StackError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import local_only_page  # Debian's Chromium via Playwright, offline

DEFAULT_REFRESH_SECONDS = 2  # the page's own default (dashboard/render.py)
PROGRESS = re.compile(r"\[progress\] (\S+) batch=\d+ input=(\d+) rows .* duration=(\d+)ms .*\((.*)\)\s*$")
VOTES_CAST = "Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]'))[1]?.innerText ?? ''"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_dashboard(space, port: int) -> Service:
    """The stack's dashboard service, as a service of the benchmark's own (`bench-dashboard`, on `port`) reading the
    workspace's topics: their names through the config module's variables, read as the admin (only the admin may use
    a workspace's topics). Started and health-waited like any service of the stack."""
    settings = dataclasses.replace(space.settings, dashboard_port=port)
    admin = settings.kafka_admin
    env = {
        **{f"ELECTION_TOPIC_{name.upper()}": topic for name, topic in dataclasses.asdict(space.topics).items()},
        "ELECTION_KAFKA_DASHBOARD_USERNAME": admin.username or "",
        "ELECTION_KAFKA_DASHBOARD_PASSWORD": admin.password or "",
    }
    server = dataclasses.replace(dashboard_service(settings), name="bench-dashboard", env=env)
    server.start()
    try:
        server.wait_healthy()
    except StackError:
        server.stop()
        raise
    return server


def poll_committed(space, election_id: int, stop: threading.Event, series: list[tuple[float, int]]) -> None:
    """(time, votes PostgreSQL has committed for the election) every 50 ms, from the count the database keeps."""
    with space.connect(autocommit=True) as conn:
        while not stop.is_set():
            (count,) = conn.execute(
                "SELECT coalesce(sum(votes), 0) FROM votes_recorded_counts WHERE election_id = %s", (election_id,)
            ).fetchone()
            series.append((time.perf_counter(), int(count)))
            time.sleep(0.05)


def poll_published(space, election_id: int, stop: threading.Event, series: list[tuple[float, int]]) -> None:
    """(time, the sum of the election's latest per-candidate totals on the workspace's `votes_per_candidate`) at each
    new value, read from the start of the topic."""
    topic = space.topics.votes_per_candidate
    consumer = Consumer(space.settings.kafka_client_config(**{"group.id": "bench-screen", "enable.auto.commit": False}))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, partition, 0) for partition in partitions])
        totals: dict[str, int] = {}
        while not stop.is_set():
            messages = [m for m in consumer.consume(1_000, timeout=0.05) if m.error() is None and m.value()]
            seen = time.perf_counter()
            for message in messages:
                value = json.loads(message.value())
                if value.get("election_id") == election_id:
                    totals[value["candidate_id"]] = value["total_votes"]
            if messages:
                series.append((seen, sum(totals.values())))
    finally:
        consumer.close()


def batch_rows(progress: list[tuple[float, str]], since: float) -> list[tuple[str, str]]:
    """Per query, the micro-batches the job reported after `since`: count, mean input, mean/p95 duration, mean parts."""
    by_query: dict[str, list[tuple[int, int, dict[str, int]]]] = {}
    for at, line in progress:
        match = PROGRESS.search(line)
        if match and at >= since:
            name, rows, duration, parts = match.groups()
            split = {k: int(v) for k, v in (part.split("=") for part in parts.split() if "=" in part)}
            by_query.setdefault(name, []).append((int(rows), int(duration), split))
    result = []
    for name, batches in sorted(by_query.items()):
        durations = [d for _, d, _ in batches]
        parts: dict[str, float] = {}
        for _, _, split in batches:
            for key, value in split.items():
                parts[key] = parts.get(key, 0) + value / len(batches)
        top = ", ".join(f"{k} {v:.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:5])
        result.append(
            (
                f"{name}: micro-batches",
                f"{len(batches)}, mean {statistics.fmean(r for r, _, _ in batches):.0f} votes,"
                f" {statistics.fmean(durations):.0f} ms (p95 {percentile(durations, 95):.0f}); mean ms: {top}",
            )
        )
    return result


def _p50_p95(values: list[float]) -> str:
    return f"{percentile(values, 50):.2f} / {percentile(values, 95):.2f} s"


def first_reaching(series: list[tuple[float, int]], rank: int) -> float | None:
    """When a non-decreasing count series first reached `rank`."""
    counts = [count for _, count in series]
    index = bisect.bisect_left(counts, rank)
    return series[index][0] if index < len(series) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200, help="votes per second")
    parser.add_argument("--seconds", type=int, default=60, help="measured period")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured seconds at the same rate first")
    args = parser.parse_args()
    settings = get_settings()
    votes = args.rate * (args.seconds + args.warmup)
    with workspace(settings, "screen") as space:
        election_id = space.new_election(votes)
        with tempfile.TemporaryDirectory(prefix="bench-screen-", dir=settings.state_dir) as checkpoint:
            job = start_job(space, checkpoint)
            started = threading.Event()
            progress: list[tuple[float, str]] = []

            def read_output() -> None:  # drained, or the job blocks on a full pipe
                for line in job.stdout:
                    if line.startswith("[stream] query"):
                        started.set()
                    elif line.startswith("[progress]"):
                        progress.append((time.perf_counter(), line))

            threading.Thread(target=read_output, daemon=True).start()
            port = _free_port()
            server = start_dashboard(space, port)
            try:
                if not started.wait(180):
                    raise SystemExit("the stream job did not start within 3 minutes")
                stream_job, dashboard, benchmark = psutil.Process(job.pid), server.process(), psutil.Process()
                cpu = CpuShares(
                    {
                        "stream job": lambda: cpu_by_process(stream_job),
                        "dashboard server": lambda: cpu_by_process(dashboard),
                        "caster and the benchmark's readers": lambda: cpu_by_process(benchmark, descendants=False),
                        # the benchmark's children are the job and the server too: Chromium's processes by name
                        "Chromium": lambda: cpu_by_process(benchmark, itself=False, named="chrom"),
                        "Playwright's driver": lambda: cpu_by_process(benchmark, itself=False, named="node"),
                    }
                )
                committed, published, shown = measure(space, election_id, votes, args, port, cpu)
                cpu_rows = [("CPU over the casting (cores)", cpu.line())]
            finally:
                server.stop()
                os.killpg(job.pid, signal.SIGTERM)
                job.wait(60)

    start = committed[0][0]
    delays, to_topic, to_page = [], [], []
    for rank in range(args.rate * args.warmup + 1, votes + 1):
        at = first_reaching(committed, rank)
        seen = first_reaching(shown, rank)
        if at is not None and seen is not None and at - start >= args.warmup:
            delays.append(seen - at)
            out = first_reaching(published, rank)
            if out is not None:
                to_topic.append(out - at)
                to_page.append(seen - out)
    if len(delays) < votes // 2:
        raise SystemExit(f"only {len(delays):,} of {votes:,} votes were seen on the page")
    rows = [
        ("votes measured", f"{len(delays):,} (after {args.warmup} s warm-up, {args.rate} votes/s)"),
        ("p50 commit -> screen", f"{percentile(delays, 50):.2f} s"),
        ("p95 commit -> screen", f"{percentile(delays, 95):.2f} s"),
        ("max commit -> screen", f"{max(delays):.2f} s"),
        ("  of which commit -> published (p50 / p95)", _p50_p95(to_topic)),
        ("  of which published -> screen (p50 / p95)", _p50_p95(to_page)),
        ("the page's refresh interval (its mean wait: half)", f"{DEFAULT_REFRESH_SECONDS} s"),
        ("the stream's trigger interval", settings.stream_trigger_interval),
    ]
    print(f"\ncast-to-screen benchmark: headless Chromium on the dashboard, Spark {settings.spark_master}")
    print(table(rows, ("measure", "value")))
    print("where the time goes (the measured period):")
    for name, value in [*batch_rows(progress, start + args.warmup), *cpu_rows]:
        print(f"  {name.strip()}: {value}")
    results.record(settings, "cast_to_screen_p95", percentile(delays, 95), "s")


def measure(space, election_id: int, votes: int, args, port: int, cpu: CpuShares):
    """Cast while reading PostgreSQL's count, the published totals and the page's figure; the three series, each
    (time, count)."""
    committed: list[tuple[float, int]] = []
    published: list[tuple[float, int]] = []
    shown: list[tuple[float, int]] = []
    stop = threading.Event()
    counter = threading.Thread(target=poll_committed, args=(space, election_id, stop, committed), daemon=True)
    reader = threading.Thread(target=poll_published, args=(space, election_id, stop, published), daemon=True)
    request = CastRequest(election_id=election_id, turnout=1.0, votes_per_second=args.rate, random_seed=5)
    failure: list[BaseException] = []

    def cast() -> None:
        try:
            cast_election(
                space.connect,
                space.settings.kafka_client_config(),
                request,
                voters_topic=space.topics.voters,
                votes_topic=space.topics.votes,
                group_prefix=f"bench-screen-{time.time_ns()}",
            )
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            failure.append(exc)

    caster = threading.Thread(target=cast, daemon=True)
    with local_only_page(1400, 1000) as (page, blocked):
        page.goto(f"http://localhost:{port}/?election={election_id}", wait_until="domcontentloaded")
        page.wait_for_function(f"({VOTES_CAST}) === '0'", timeout=180_000)  # the page is live, nothing counted
        counter.start()
        reader.start()
        cpu.start()
        caster.start()
        deadline = time.monotonic() + args.seconds + args.warmup + 180
        while time.monotonic() < deadline and not failure:
            text = page.evaluate(VOTES_CAST).replace(",", "")
            if text.isdigit():
                shown.append((time.perf_counter(), int(text)))
                if int(text) >= votes:
                    break
            time.sleep(0.1)
        if blocked:
            raise SystemExit(f"the page asked for something outside localhost: {blocked[:3]}")
    stop.set()
    caster.join(60)
    counter.join(5)
    reader.join(5)
    if failure:
        raise SystemExit(f"casting failed: {failure[0]!r}")
    # The page's figure can only rise; a refresh that re-read an older value would show as a dip: keep it monotone.
    peak = 0
    monotone = []
    for at, count in shown:
        peak = max(peak, count)
        monotone.append((at, peak))
    return committed, published, monotone


if __name__ == "__main__":
    main()
