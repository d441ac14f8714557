"""Benchmark of one dashboard refresh, server-side, for an election of 1,000,000 votes.

An election of its own (1,000,000 registered voters in PostgreSQL, every one of them voted) and aggregated topics
of its own holding what the stream would have published for its 1,000,000 votes cast over 8 hours: every
candidate, party, state, state × candidate and demographic cell updated once per 30-second batch, one key per
candidate and minute (960 batches, before compaction), and the race calls its totals make. Then, with the
dashboard's own code (the election-night view included):

- the first refresh of a new server (the feed reads every topic from the beginning);
- a full refresh as the page runs it every interval: a batch of new values read from Kafka, PostgreSQL's
  reference queried (the cache expired), every figure computed and every chart built and serialised to the
  Vega-Lite spec Streamlit sends. Median and p95 of 30.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

from helpers import results
from helpers.workspace import table, workspace

from election.config import get_settings
from election.domain import AGE_BANDS, GENDERS
from election.kafka_io import produce_all, reliable_producer
from election.records import CandidateLabel
from election.regions import electoral_votes
from election.results.race_calls import RaceDesk
from election.streaming.publish import Message, messages

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the dashboard package, as `streamlit run` has it
from dashboard import render
from dashboard.data import AggregateFeed, ReadOnlyDatabase, dimension_topics, read_reference


def history(space, election_id: int, votes: int, hours: int, batch_seconds: int) -> list:
    """The messages the stream publishes while `votes` votes arrive evenly over `hours` hours."""
    with space.connect() as conn:
        candidates = conn.execute(
            "SELECT candidate_id::text, candidate_name, party_name, photo_url FROM candidates JOIN parties "
            "USING (election_id, party_id) WHERE election_id = %s",
            (election_id,),
        ).fetchall()
        registered = dict(
            conn.execute(
                "SELECT address_state, count(*) FROM voters WHERE election_id = %s GROUP BY 1", (election_id,)
            ).fetchall()
        )
    labels = {(election_id, c): CandidateLabel(name, party, photo) for c, name, party, photo in candidates}
    registered_in = {(election_id, state): n for state, n in registered.items()}
    topics = space.topics.by_dimension()
    rng = random.Random(7)
    weights = [rng.uniform(0.5, 2) for _ in candidates]
    cells = [f"{g}|{band}" for g in GENDERS for band, _, _ in AGE_BANDS]
    states = sorted(registered)
    batches = hours * 3600 // batch_seconds
    start = dt.datetime(2026, 11, 3, 7, 0, tzinfo=dt.UTC)
    totals: dict[tuple[str, str], int] = {}
    out = []
    for batch in range(batches):
        at = start + dt.timedelta(seconds=batch * batch_seconds)
        arrived = votes // batches + (1 if batch < votes % batches else 0)
        minute = at.replace(second=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        rows = []
        for (candidate, *_), n in zip(candidates, _split(rng, arrived, weights), strict=True):
            party = labels[(election_id, candidate)].party
            for key in (("candidate", candidate), ("party", party), ("minute", f"{candidate}|{minute}")):
                totals[key] = totals.get(key, 0) + n
        for state, n in zip(states, _split(rng, arrived, [registered[s] for s in states]), strict=True):
            totals[("state", state)] = totals.get(("state", state), 0) + n
            for (candidate, *_), k in zip(candidates, _split(rng, n, weights), strict=True):
                key = ("state_candidate", f"{state}:{candidate}")
                totals[key] = totals.get(key, 0) + k
        for cell, n in zip(cells, _split(rng, arrived, [1.0] * len(cells)), strict=True):
            totals[("demographic", cell)] = totals.get(("demographic", cell), 0) + n
        for (dimension, key), total in totals.items():
            if dimension != "minute" or key.endswith(minute):
                rows.append({"election_id": election_id, "dimension": dimension, "key": key, "total_votes": total})
        out += messages(rows, registered=registered_in, labels=labels, topics=topics, window_seconds=60, updated_at=at)
    # the race calls the stream would have made on these totals (the final ones: every state decided so far)
    desk = RaceDesk(registered_in, electoral_votes())
    per_state = [
        (election_id, *key.split(":", 1), total)
        for (dimension, key), total in totals.items()
        if dimension == "state_candidate"
    ]
    calls = desk.update(per_state, start + dt.timedelta(hours=hours))
    out += [Message(space.topics.race_calls, call.key, json.dumps(call.message())) for call in calls]
    return out


def _split(rng: random.Random, n: int, weights: list[float]) -> list[int]:
    counts = [0] * len(weights)
    for index in rng.choices(range(len(weights)), weights=weights, k=n):
        counts[index] += 1
    return counts


def produce(space, batch: list) -> None:
    producer = reliable_producer(space.settings.kafka_client_config())
    by_topic: dict[str, list] = {}
    for m in batch:
        by_topic.setdefault(m.topic, []).append((m.key, m.value))
    for topic, records in by_topic.items():
        produce_all(producer, topic, records)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--refreshes", type=int, default=30)
    args = parser.parse_args()
    settings = get_settings()
    with workspace(settings, "dashboard") as space:
        t = time.perf_counter()
        election_id = space.new_election(args.votes, publish=False)
        with space.connect() as conn:  # and every one of them voted: the reconciliation count reads 1M rows
            conn.execute(
                "INSERT INTO votes (election_id, voter_id, candidate_id, voting_time) "
                "SELECT election_id, voter_id, (SELECT min(candidate_id::text)::uuid FROM candidates c "
                "WHERE c.election_id = v.election_id), now() FROM voters v WHERE election_id = %s",
                (election_id,),
            )
        print(f"seeded {args.votes:,} registered voters and their votes in {time.perf_counter() - t:.1f}s")
        published = history(space, election_id, args.votes, hours=8, batch_seconds=30)
        produce(space, published)
        print(f"published {len(published):,} aggregate messages for {args.votes:,} votes")
        feed = AggregateFeed(
            kafka_config=settings.kafka_client_config(),
            topics=dimension_topics(space.topics),
            dead_letter_topic=space.topics.votes_dead_letter,
            min_refresh_seconds=0,
        )
        database = ReadOnlyDatabase(settings)  # as the page holds it: one connection, kept open
        election = render.Election(election_id, "benchmark", "open")
        controls = render.Controls(refresh_seconds=2, paused=False, election=election, states=(), parties=())

        t = time.perf_counter()
        state = feed.refresh()
        while not state.caught_up:
            state = feed.refresh()
        first = time.perf_counter() - t
        reference = read_reference(database, election_id)
        shown = render.figures(state.for_election(election_id), reference, controls)
        streamed = int(state.frames["candidate"]["total_votes"].sum())
        assert streamed == args.votes, f"the feed shows {streamed:,} votes, expected {args.votes:,}"
        assert reference.registered_voters == args.votes
        print(f"first refresh of a new server: {ms(first)} (read {len(published):,} messages)")

        timings: dict[str, list[float]] = {"kafka": [], "postgres": [], "figures": [], "total": []}
        extra = history(space, election_id, 3_000, hours=1, batch_seconds=3600)  # one more batch per refresh
        for _ in range(args.refreshes):
            produce(space, extra)
            time.sleep(0.05)
            t0 = time.perf_counter()
            state = feed.refresh().for_election(election_id)
            t1 = time.perf_counter()
            reference = read_reference(database, election_id)
            t2 = time.perf_counter()
            shown = render.figures(state, reference, controls)
            specs = [json.dumps(spec) for spec in shown.charts.values()]  # what Streamlit sends
            t3 = time.perf_counter()
            assert len(specs) == 8  # 6 charts, the map of calls and the electoral-vote bar
            for name, value in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                timings[name].append(value)
        feed.close()

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    rows = [
        (name, ms(statistics.median(values)), ms(p95(values)))
        for name, values in (
            ("Kafka: read new values", timings["kafka"]),
            ("PostgreSQL: reference (cache expired)", timings["postgres"]),
            ("figures + 8 charts serialised (incl. election night)", timings["figures"]),
            ("full refresh", timings["total"]),
        )
    ]
    print(table(rows, ("step", "median", "p95")))
    total = statistics.median(timings["total"])
    print(f"full refresh for {args.votes:,} votes: median {ms(total)}")
    results.record(settings, "dashboard_refresh_median", total, "s")


if __name__ == "__main__":
    main()
