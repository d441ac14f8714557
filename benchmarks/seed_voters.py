"""Benchmark of election_seed: 1,000,000 voters through the DAG's own steps, the whole path a run takes.

Inside the clock: generate (Faker pools, Arrow), the generated frames' data-quality suites (Great Expectations,
import included), the load (a new election, COPY of parties, candidates and voters, then the post-load suites on
the loaded rows, all in one transaction that commits only if they pass) and the publication of the election's
candidates and voters, read back from the tables, to Kafka (acks=all, idempotent). Outside: nothing.

Runs on an election and topics of its own (removed afterwards): a user's elections are left alone.
"""

from __future__ import annotations

import argparse
import logging
import time

from helpers import results
from helpers.workspace import table, workspace

from election.config import get_settings
from election.kafka_io import reliable_producer
from election.quality.connection import LendableConnection
from election.seeding import pipeline
from election.seeding.staging import SeedRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    request = SeedRequest(args.voters, args.candidates, 2026, settings.election_date)
    timings: dict[str, float] = {}
    with workspace(settings, "seed") as space:
        start = time.perf_counter()
        staged = pipeline.generate_step(request, space.staging)
        timings["generate"] = time.perf_counter() - start

        t = time.perf_counter()
        pipeline.validate_generated_step(staged)
        timings["checks of the generated frames (GX, incl. import)"] = time.perf_counter() - t

        with LendableConnection.connect(settings.election_db.conninfo()) as conn:
            t = time.perf_counter()
            loaded = pipeline.load_step(conn, staged, name="benchmark seed")
            timings["load + post-load checks (one transaction)"] = time.perf_counter() - t
        space.elections.append(loaded.election_id)

        with space.connect() as conn:
            t = time.perf_counter()
            producer = reliable_producer(settings.kafka_client_config())  # its own topics: the admin
            pipeline.publish_step(conn, producer, loaded.election_id, space.topics.candidates, space.topics.voters)
            timings["publish from the tables (acks=all, idempotent)"] = time.perf_counter() - t
        total = time.perf_counter() - start

    rows = [(step, f"{seconds:.2f}", f"{args.voters / seconds:,.0f}") for step, seconds in timings.items()]
    rows.append(("TOTAL: the whole seed path", f"{total:.2f}", f"{args.voters / total:,.0f}"))
    print(f"\nelection_seed benchmark: {args.voters:,} voters, {args.candidates} candidates")
    print(table(rows, ("step", "seconds", "voters/s")))
    name = "seed_1m" if args.voters == 1_000_000 else f"seed_{args.voters}"
    results.record(settings, name, total, "s")


if __name__ == "__main__":
    main()
