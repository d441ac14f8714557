"""Benchmark of vote casting: 1,000,000 seeded voters through the DAG's own caster, durably (each vote
committed in PostgreSQL and acknowledged by Kafka before its voter's offset is committed).

In the same run: a seed-style baseline on a sample (one INSERT + commit and one produce + poll per vote, as the
original project's voting.py did, minus its sleep), and the raw ceilings measured the same way: PostgreSQL COPY
of vote rows and confluent-kafka produce of records of this size. Issue bar: >= 50,000 votes/s and >= 20x the
baseline (aim 100,000/s). Runs in a scratch schema and scratch topics.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import time

from confluent_kafka import Consumer, Producer
from scratch import scratch, table
from stream_common import seed_scratch

from election.config import get_settings
from election.kafka_io import produce_all, reliable_producer
from election.seeding.publish import voter_records
from election.seeding.staging import SeedRequest, StagedSeed
from election.voting.caster import CastRequest, VoteCaster, load_electorate


def publish_voters(space, voters: int) -> None:
    """The scratch election's voters on its voters topic, as election_seed publishes them."""
    staging = space.settings.state_dir / f"bench-stage-{space.schema}"
    staged = StagedSeed(SeedRequest(voters, 5, 7, space.settings.election_date), staging / "seed")
    from election.seeding.staging import stage

    staged, _ = stage(staged.request, staging)
    produce_all(reliable_producer(space.settings.kafka_client_config()), space.topic("voters"), voter_records(staged))


def baseline(space, sample: int) -> float:
    """The original voting.py, minus its sleep: per vote one INSERT + commit, one produce + poll (+ flush)."""
    with space.connect() as conn:
        voters = conn.execute(
            "SELECT v.voter_id, c.candidate_id FROM voters v CROSS JOIN LATERAL "
            "(SELECT candidate_id FROM candidates ORDER BY random() LIMIT 1) c LIMIT %s", (sample,)
        ).fetchall()  # fmt: skip
        producer = Producer(space.settings.kafka_client_config())
        start = time.perf_counter()
        for voter_id, candidate_id in voters:
            conn.execute(
                "INSERT INTO votes (voter_id, candidate_id, voting_time) VALUES (%s, %s, %s)",
                (voter_id, candidate_id, dt.datetime.now(dt.UTC)),
            )
            conn.commit()
            producer.produce(space.topic("baseline_votes"), key=str(voter_id), value=f'{{"voter_id":"{voter_id}"}}')
            producer.poll(0)
        producer.flush(30)
        elapsed = time.perf_counter() - start
        conn.execute("DELETE FROM votes")
        conn.commit()
    return len(voters) / elapsed


def copy_ceiling(space, rows: int) -> float:
    """PostgreSQL COPY of (voter_id, candidate_id, voting_time) rows into an unindexed table: the write ceiling."""
    with space.connect() as conn:
        conn.execute("CREATE TABLE copy_ceiling (voter_id uuid, candidate_id uuid, voting_time timestamptz)")
        ids = [r[0] for r in conn.execute("SELECT voter_id::text FROM voters LIMIT %s", (rows,)).fetchall()]
        candidate = conn.execute("SELECT candidate_id::text FROM candidates LIMIT 1").fetchone()[0]
        now = dt.datetime.now(dt.UTC).isoformat()
        data = "".join(f"{v}\t{candidate}\t{now}\n" for v in ids)
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY copy_ceiling FROM STDIN") as copy:
            copy.write(io.StringIO(data).getvalue())
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE copy_ceiling")
        conn.commit()
    return len(ids) / elapsed


def produce_ceiling(space, records: list[tuple[str, str]]) -> float:
    """confluent-kafka produce (idempotent, acks=all) of vote records of the real size, all acknowledged."""
    start = time.perf_counter()
    produce_all(reliable_producer(space.settings.kafka_client_config()), space.topic("ceiling_votes"), records)
    return len(records) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=5_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    topics = {"voters": 3, "votes": 3, "baseline_votes": 3, "ceiling_votes": 3}
    with scratch(settings, "cast", topics) as space:
        print(f"seeding and publishing {args.voters:,} voters ...", flush=True)
        seed_scratch(space, args.voters)
        publish_voters(space, args.voters)
        base_rate = baseline(space, args.baseline_sample)

        request = CastRequest(turnout=1.0, random_seed=11)
        consumer = Consumer(settings.kafka_client_config(**{
            "group.id": f"bench-caster-{time.time_ns()}", "enable.auto.commit": False,
            "auto.offset.reset": "earliest"}))  # fmt: skip
        with space.connect() as conn:
            caster = VoteCaster(space.connect, consumer, reliable_producer(settings.kafka_client_config()),
                                voters_topic=space.topic("voters"), votes_topic=space.topic("votes"),
                                request=request)  # fmt: skip
            report = caster.run(load_electorate(conn, request))
            in_postgres = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
            outbox = conn.execute("SELECT count(*) FROM vote_outbox").fetchone()[0]
            sample = conn.execute("SELECT voter_id::text FROM votes LIMIT 100000").fetchall()
        consumer.close()
        record = (
            '{"voter_id":"%s","candidate_id":"2b0d3c7e-7c39-4c5e-9f5e-8d2f5d1b6a11","candidate_name":"Allison Hill",'
            '"party":"Civic Renewal Party",'
            '"photo_url":"avatars/candidates/2b0d3c7e-7c39-4c5e-9f5e-8d2f5d1b6a11.svg",'
            '"address_state":"CA","gender":"female","age":47,'
            '"voting_time":"2026-11-25T15:26:46.885123+00:00","vote":1}'
        )
        kafka_rate = produce_ceiling(space, [(v, record % v) for (v,) in sample])
        copy_rate = copy_ceiling(space, 200_000)

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
        ("ceiling: confluent-kafka produce, acks=all", f"{kafka_rate:,.0f} records/s"),
        ("votes in PostgreSQL / outbox left", f"{in_postgres:,} / {outbox}"),
        *((f"busy time of stage '{stage}'", f"{seconds:.1f} s") for stage, seconds in report.stage_seconds.items()),
    ]
    print(f"\nvote casting benchmark: {args.voters:,} voters, turnout 100%")
    print(table(rows, ("measure", "value")))
    ok = rate >= 50_000 and rate >= 20 * base_rate
    print(f"bar: >= 50,000 votes/s and >= 20x baseline -> {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
