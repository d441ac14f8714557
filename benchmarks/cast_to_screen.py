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
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import os
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from helpers import results
from helpers.stream import start_job
from helpers.workspace import table, workspace

from election.config import get_settings
from election.voting.caster import CastRequest, cast_election
from localstack.dashboard import service as dashboard_service
from localstack.process import Service, StackError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import local_only_page  # Debian's Chromium via Playwright, offline

DEFAULT_REFRESH_SECONDS = 2  # the page's own default (dashboard/render.py)
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

            def read_output() -> None:  # drained, or the job blocks on a full pipe
                for line in job.stdout:
                    if line.startswith("[stream] query"):
                        started.set()

            threading.Thread(target=read_output, daemon=True).start()
            port = _free_port()
            server = start_dashboard(space, port)
            try:
                if not started.wait(180):
                    raise SystemExit("the stream job did not start within 3 minutes")
                committed, shown = measure(space, election_id, votes, args, port)
            finally:
                server.stop()
                os.killpg(job.pid, signal.SIGTERM)
                job.wait(60)

    start = committed[0][0]
    delays = []
    for rank in range(args.rate * args.warmup + 1, votes + 1):
        at = first_reaching(committed, rank)
        seen = first_reaching(shown, rank)
        if at is not None and seen is not None and at - start >= args.warmup:
            delays.append(seen - at)
    if len(delays) < votes // 2:
        raise SystemExit(f"only {len(delays):,} of {votes:,} votes were seen on the page")
    quantile = statistics.quantiles(sorted(delays), n=100)
    rows = [
        ("votes measured", f"{len(delays):,} (after {args.warmup} s warm-up, {args.rate} votes/s)"),
        ("p50 commit -> screen", f"{quantile[49]:.2f} s"),
        ("p95 commit -> screen", f"{quantile[94]:.2f} s"),
        ("max commit -> screen", f"{max(delays):.2f} s"),
        ("the page's refresh interval (its mean wait: half)", f"{DEFAULT_REFRESH_SECONDS} s"),
        ("the stream's trigger interval", settings.stream_trigger_interval),
    ]
    print(f"\ncast-to-screen benchmark: headless Chromium on the dashboard, Spark {settings.spark_master}")
    print(table(rows, ("measure", "value")))
    results.record(settings, "cast_to_screen_p95", quantile[94], "s")


def measure(space, election_id: int, votes: int, args, port: int):
    """Cast while reading PostgreSQL's count and the page's figure; both series, each (time, count)."""
    committed: list[tuple[float, int]] = []
    shown: list[tuple[float, int]] = []
    stop = threading.Event()
    counter = threading.Thread(target=poll_committed, args=(space, election_id, stop, committed), daemon=True)
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
    if failure:
        raise SystemExit(f"casting failed: {failure[0]!r}")
    # The page's figure can only rise; a refresh that re-read an older value would show as a dip: keep it monotone.
    peak = 0
    monotone = []
    for at, count in shown:
        peak = max(peak, count)
        monotone.append((at, peak))
    return committed, monotone


if __name__ == "__main__":
    main()
