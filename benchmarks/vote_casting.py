"""Benchmark of vote casting: an election of 1,000,000 voters cast through the DAG's own caster, durably (each vote
committed in PostgreSQL and acknowledged by Kafka before its voter's offset is committed).

Inside the clock: the caster's run (`cast_election`: the electorate read from PostgreSQL, then reading the voters
from Kafka, deciding, recording, publishing). Outside: seeding and publishing the election's voters.

In the same run: a seed-style baseline on a sample of another election of its own (one INSERT + commit and one
produce + poll per vote, as the original project's voting.py did, minus its sleep), and the raw ceilings measured
the same way: PostgreSQL COPY of vote rows into a temporary table and confluent-kafka produce of records of this
size. Runs on elections and topics of its own. Where the time goes: the caster's stages' busy times, and the cores
the caster, PostgreSQL and Kafka used over the cast beside the machine's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import time

import psutil
from confluent_kafka import Producer
from helpers import results
from helpers.cpu import CpuShares, cpu_by_process
from helpers.workspace import Workspace, table, workspace

from election.config import get_settings
from election.kafka_io import produce_all, reliable_producer
from election.voting.caster import CastRequest, cast_election
from localstack import kafka
from localstack.postgres import Postgres


def baseline(space: Workspace, election_id: int, sample: int) -> float:
    """The original voting.py, minus its sleep: per vote one INSERT + commit, one produce + poll (+ flush)."""
    with space.connect() as conn:
        voters = conn.execute(
            "SELECT v.voter_id, c.candidate_id FROM voters v CROSS JOIN LATERAL (SELECT candidate_id FROM candidates"
            " WHERE election_id = v.election_id ORDER BY random() LIMIT 1) c WHERE v.election_id = %s LIMIT %s",
            (election_id, sample),
        ).fetchall()
        producer = Producer(space.settings.kafka_client_config())
        start = time.perf_counter()
        for voter_id, candidate_id in voters:
            conn.execute(
                "INSERT INTO votes (election_id, voter_id, candidate_id, voting_time) VALUES (%s, %s, %s, %s)",
                (election_id, voter_id, candidate_id, dt.datetime.now(dt.UTC)),
            )
            conn.commit()
            producer.produce(space.topics.votes, key=str(voter_id), value=f'{{"voter_id":"{voter_id}"}}')
            producer.poll(0)
        producer.flush(30)
        elapsed = time.perf_counter() - start
    return len(voters) / elapsed


def copy_ceiling(space: Workspace, election_id: int, rows: int) -> float:
    """PostgreSQL COPY of (voter_id, candidate_id, voting_time) rows into an unindexed temporary table."""
    with space.connect() as conn:
        conn.execute("CREATE TEMP TABLE copy_ceiling (voter_id uuid, candidate_id uuid, voting_time timestamptz)")
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT voter_id::text FROM voters WHERE election_id = %s LIMIT %s", (election_id, rows)
            ).fetchall()
        ]
        candidate = conn.execute(
            "SELECT candidate_id::text FROM candidates WHERE election_id = %s LIMIT 1", (election_id,)
        ).fetchone()[0]
        now = dt.datetime.now(dt.UTC).isoformat()
        data = "".join(f"{v}\t{candidate}\t{now}\n" for v in ids)
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY copy_ceiling FROM STDIN") as copy:
            copy.write(io.StringIO(data).getvalue())
        conn.commit()
        return len(ids) / (time.perf_counter() - start)


def produce_ceiling(space: Workspace, records: list[tuple[str, str]]) -> float:
    """confluent-kafka produce (idempotent, acks=all) of vote records of the real size, all acknowledged."""
    start = time.perf_counter()
    producer = reliable_producer(space.settings.kafka_client_config())
    produce_all(producer, space.topics.votes_dead_letter, records)  # a topic of the workspace nothing reads
    return len(records) / (time.perf_counter() - start)


def cpu_shares(settings) -> CpuShares:
    """The caster (this process: its threads), PostgreSQL (the postmaster and its backends) and the Kafka brokers."""
    postmaster = Postgres(settings).pid()
    postgres = psutil.Process(postmaster) if postmaster else None
    brokers = [node.service.process() for node in kafka.nodes(settings)]
    return CpuShares(
        {
            "caster": lambda: cpu_by_process(psutil.Process(), descendants=False),
            "PostgreSQL": lambda: cpu_by_process(postgres),
            "Kafka": lambda: {k: v for broker in brokers for k, v in cpu_by_process(broker).items()},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=5_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    with workspace(settings, "cast") as space:
        print(f"seeding and publishing {args.voters:,} voters ...", flush=True)
        election_id = space.new_election(args.voters)
        base_rate = baseline(space, space.new_election(args.baseline_sample, publish=False), args.baseline_sample)

        cpu = cpu_shares(settings)
        cpu.start()
        report = cast_election(
            space.connect,
            settings.kafka_client_config(),
            CastRequest(election_id=election_id, turnout=1.0, random_seed=11),
            voters_topic=space.topics.voters,
            votes_topic=space.topics.votes,
            group_prefix=f"bench-caster-{time.time_ns()}",
        )
        cpu_line = cpu.line()
        with space.connect() as conn:
            in_postgres = conn.execute("SELECT count(*) FROM votes WHERE election_id = %s", (election_id,)).fetchone()
            outbox = conn.execute("SELECT count(*) FROM vote_outbox WHERE election_id = %s", (election_id,)).fetchone()
            sample = conn.execute(
                "SELECT voter_id::text FROM votes WHERE election_id = %s LIMIT 100000", (election_id,)
            ).fetchall()
        record = (
            '{"election_id":1,"voter_id":"%s","candidate_id":"2b0d3c7e-7c39-4c5e-9f5e-8d2f5d1b6a11",'
            '"candidate_name":"Allison Hill","party":"Civic Renewal Party",'
            '"photo_url":"avatars/candidates/2b0d3c7e-7c39-4c5e-9f5e-8d2f5d1b6a11.svg",'
            '"address_state":"CA","gender":"female","age":47,'
            '"voting_time":"2026-11-25T15:26:46.885123+00:00","vote":1}'
        )
        kafka_rate = produce_ceiling(space, [(f"1:{v}", record % v) for (v,) in sample])
        copy_rate = copy_ceiling(space, election_id, 200_000)

    rate = report.votes_per_second
    rows = [
        ("votes cast durably", f"{report.votes_cast:,} in {report.seconds:.1f} s"),
        ("rate (PostgreSQL committed + Kafka acknowledged)", f"{rate:,.0f} votes/s"),
        (
            "baseline: INSERT+commit, produce+poll per vote",
            f"{base_rate:,.0f} votes/s ({args.baseline_sample:,} votes)",
        ),
        ("ratio to baseline", f"{rate / base_rate:,.1f}x"),
        ("ceiling: PostgreSQL COPY of vote rows", f"{copy_rate:,.0f} rows/s"),
        ("share of the COPY ceiling", f"{100 * rate / copy_rate:.1f} %"),
        ("ceiling: confluent-kafka produce, acks=all", f"{kafka_rate:,.0f} records/s"),
        ("votes in PostgreSQL / outbox left", f"{in_postgres[0]:,} / {outbox[0]}"),
        *((f"busy time of stage '{stage}'", f"{seconds:.1f} s") for stage, seconds in report.stage_seconds.items()),
    ]
    print(f"\nvote casting benchmark: {args.voters:,} voters, turnout 100%, profile {settings.stack_profile}")
    print(table(rows, ("measure", "value")))
    print(f"CPU over the cast (cores): {cpu_line}")
    results.record(settings, "vote_casting", rate, "votes/s", baseline=base_rate, ceiling=copy_rate)


if __name__ == "__main__":
    main()
