"""Benchmark of election_seed: 1,000,000 voters through the DAG's own steps (generate, validate, load, publish).

Runs against the stack (`make bench`) in a scratch schema and scratch topics, so a loaded election is left
alone. Prints rows/s per step and in total. The issue's bar: <= 60 s in total on a 2-core machine.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

from scratch import scratch, table

from election.config import get_settings
from election.kafka_io import reliable_producer
from election.seeding import pipeline
from election.seeding.staging import SeedRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=5)
    parser.add_argument("--post-load", action="store_true", help="also time the post-load validation")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    request = SeedRequest(args.voters, args.candidates, 2026, settings.election_date)
    staging = Path(tempfile.mkdtemp(prefix="bench-seed-", dir=settings.state_dir))
    timings: dict[str, float] = {}
    try:
        with scratch(settings, "seed", {"voters": settings.voters_partitions, "candidates": 1}) as space:
            start = time.perf_counter()
            staged = pipeline.generate_step(request, staging)
            timings["generate"] = time.perf_counter() - start

            t = time.perf_counter()
            pipeline.validate_generated_step(staged)
            timings["validate (GX, incl. import)"] = time.perf_counter() - t

            with space.connect() as conn:
                t = time.perf_counter()
                pipeline.load_step(conn, staged)
                timings["load (COPY, one transaction)"] = time.perf_counter() - t

                t = time.perf_counter()
                producer = reliable_producer(settings.kafka_client_config())
                pipeline.publish_step(conn, producer, staged, space.topic("candidates"), space.topic("voters"))
                timings["publish (acks=all, idempotent)"] = time.perf_counter() - t
            total = time.perf_counter() - start

            if args.post_load:
                with space.connect() as conn:
                    t = time.perf_counter()
                    pipeline.validate_loaded_step(conn, space.sqlalchemy_url, request)
                    timings["post-load validation (not in total)"] = time.perf_counter() - t
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    rows = [(step, f"{seconds:.2f}", f"{args.voters / seconds:,.0f}") for step, seconds in timings.items()]
    rows.append(("TOTAL generate+validate+load+publish", f"{total:.2f}", f"{args.voters / total:,.0f}"))
    print(f"\nelection_seed benchmark: {args.voters:,} voters, {args.candidates} candidates")
    print(table(rows, ("step", "seconds", "voters/s")))
    print(f"bar: total <= 60 s -> {'PASS' if total <= 60 else 'FAIL'} ({total:.1f} s)")


if __name__ == "__main__":
    main()
