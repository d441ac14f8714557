"""The vote aggregation job with the real broker and spark-submit: exact outputs, dead letters, restarts."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import psutil
import psycopg
import pytest
from confluent_kafka import Producer
from support import create_topics, delete_topics, latest_by_key, read_all, seed_election

from election.config import Settings
from election.records import age_band, encode_vote
from election.streaming.submit import spark_environment, spark_submit_command

pytestmark = pytest.mark.timeout(900)

OUTPUTS = ("candidates", "parties", "turnout", "demographics", "over_time", "dead_letter", "heartbeat")


@dataclass(frozen=True)
class Voter:
    voter_id: str
    state: str
    gender: str
    age: int


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    party: str
    photo_url: str


@dataclass
class Election:
    voters: list[Voter]
    candidates: list[Candidate]
    registered: dict[str, int]


@pytest.fixture(scope="module")
def election(settings: Settings) -> Election:
    seed_election(settings, voters=2_000, candidates=3, random_seed=44)
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        voters = [
            Voter(str(v), s, g, a)
            for v, s, g, a in conn.execute(
                "SELECT voter_id, address_state, gender,"
                " date_part('year', age(%s, date_of_birth))::int FROM voters ORDER BY voter_id",
                (settings.election_date,),
            ).fetchall()
        ]
        candidates = [
            Candidate(str(c), n, p, u)
            for c, n, p, u in conn.execute(
                "SELECT candidate_id, candidate_name, party_name, photo_url FROM candidates JOIN parties USING "
                "(party_id) ORDER BY party_id"
            ).fetchall()
        ]
        registered = dict(conn.execute("SELECT address_state, count(*) FROM voters GROUP BY 1").fetchall())
    return Election(voters, candidates, registered)


@pytest.fixture
def topics(settings: Settings):
    prefix = f"test_stream_{uuid.uuid4().hex[:8]}_"
    names = {name: prefix + name for name in ("votes", *OUTPUTS)}
    create_topics(settings, {name: (3 if key == "votes" else 1) for key, name in names.items()})
    yield names
    delete_topics(settings, list(names.values()))


def job_command(settings: Settings, topics: dict[str, str], checkpoint: str, **overrides) -> list[str]:
    return spark_submit_command(
        settings,
        master="local[2]",
        votes_topic=topics["votes"],
        candidates_topic_out=topics["candidates"],
        parties_topic_out=topics["parties"],
        turnout_topic_out=topics["turnout"],
        demographics_topic_out=topics["demographics"],
        over_time_topic_out=topics["over_time"],
        dead_letter_topic=topics["dead_letter"],
        heartbeat_topic=topics["heartbeat"],
        checkpoint_dir=checkpoint,
        shuffle_partitions=2,
        **overrides,
    )


def run_bounded(settings: Settings, topics: dict[str, str], checkpoint: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        job_command(settings, topics, checkpoint, available_now=True),
        capture_output=True,
        text=True,
        timeout=600,
        env=spark_environment(),
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def cast(election: Election, voters: list[Voter], start: dt.datetime) -> list[tuple[Voter, Candidate, bytes]]:
    rng = random.Random(len(voters))
    votes = []
    for i, voter in enumerate(voters):
        candidate = rng.choice(election.candidates)
        at = start + dt.timedelta(milliseconds=37 * i)
        payload = encode_vote(
            voter_id=voter.voter_id,
            candidate_id=candidate.candidate_id,
            candidate_name=candidate.name,
            party=candidate.party,
            photo_url=candidate.photo_url,
            address_state=voter.state,
            gender=voter.gender,
            age=voter.age,
            voting_time=at,
        )
        votes.append((voter, candidate, payload))
    return votes


def produce(settings: Settings, topic: str, records: list[tuple[str | None, bytes]]) -> None:
    producer = Producer(settings.kafka_client_config(**{"enable.idempotence": True, "acks": "all"}))
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(60) == 0


def expected_outputs(election: Election, votes: list[tuple[Voter, Candidate, bytes]]) -> dict[str, dict]:
    unique = {voter.voter_id: (voter, candidate) for voter, candidate, _ in votes}.values()
    per_candidate = Counter(c.candidate_id for _, c in unique)
    per_party = Counter(c.party for _, c in unique)
    per_state = Counter(v.state for v, _ in unique)
    per_cell = Counter(f"{v.gender}|{age_band(v.age)}" for v, _ in unique)
    return {
        "candidates": {
            c.candidate_id: {
                "candidate_name": c.name,
                "party": c.party,
                "photo_url": c.photo_url,
                "total_votes": per_candidate[c.candidate_id],
            }
            for c in election.candidates
            if per_candidate[c.candidate_id]
        },
        "parties": {party: {"total_votes": n} for party, n in per_party.items()},
        "turnout": {
            state: {
                "total_votes": n,
                "registered_voters": election.registered[state],
                "turnout_pct": round(100.0 * n / election.registered[state], 2),
            }
            for state, n in per_state.items()
        },
        "demographics": {cell: {"total_votes": n} for cell, n in per_cell.items()},
    }


def actual_outputs(settings: Settings, topics: dict[str, str]) -> dict[str, dict]:
    def strip(values: dict[str, dict], drop: tuple[str, ...]) -> dict[str, dict]:
        return {k: {f: v for f, v in value.items() if f not in drop} for k, value in values.items()}

    return {
        "candidates": strip(latest_by_key(settings, topics["candidates"]), ("candidate_id", "updated_at")),
        "parties": strip(latest_by_key(settings, topics["parties"]), ("party", "updated_at")),
        "turnout": strip(latest_by_key(settings, topics["turnout"]), ("state", "updated_at")),
        "demographics": strip(latest_by_key(settings, topics["demographics"]), ("gender", "age_band", "updated_at")),
    }


def malformed_votes(election: Election) -> list[tuple[bytes, str]]:
    """One record per kind of defect, with the reason the job must give."""
    voter, candidate = election.voters[-1], election.candidates[0]
    good = json.loads(
        encode_vote(
            voter_id=voter.voter_id,
            candidate_id=candidate.candidate_id,
            candidate_name=candidate.name,
            party=candidate.party,
            photo_url=candidate.photo_url,
            address_state=voter.state,
            gender=voter.gender,
            age=voter.age,
            voting_time=dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC),
        )
    )

    def variant(**changes) -> bytes:
        return json.dumps({k: v for k, v in {**good, **changes}.items() if v is not ...}).encode()

    return [
        (b"{this is not json", "unparseable JSON"),
        (variant(voter_id=...), "missing voter_id"),
        (variant(candidate_id=...), "missing candidate_id"),
        (variant(candidate_id=str(uuid.uuid4())), "unknown candidate_id"),
        (variant(voting_time="not a time"), "bad voting_time"),
        (variant(vote="yes"), "vote must be 1"),
    ]


def test_bounded_run_matches_the_votes_exactly(settings: Settings, election: Election, topics, tmp_path) -> None:
    votes = cast(election, election.voters[:1_500], dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC))
    duplicates = random.Random(3).sample(votes, 60)
    bad = malformed_votes(election)
    records = [(v.voter_id, payload) for v, _, payload in votes + duplicates]
    records += [(f"bad-{i}", payload) for i, (payload, _) in enumerate(bad)]
    random.Random(4).shuffle(records)
    produce(settings, topics["votes"], records)

    result = run_bounded(settings, topics, str(tmp_path / "checkpoint"))

    assert actual_outputs(settings, topics) == expected_outputs(election, votes)
    letters = [json.loads(value) for _, value in read_all(settings, topics["dead_letter"])]
    assert sorted((letter["payload"], letter["reason"]) for letter in letters) == sorted(
        (payload.decode(), reason) for payload, reason in bad
    )
    assert all(letter["source_topic"] == topics["votes"] and letter["source_offset"] >= 0 for letter in letters)
    # The per-minute series adds up to the totals: the same deduplicated votes, in the windows they were cast in.
    over_time = latest_by_key(settings, topics["over_time"]).values()
    per_candidate = Counter()
    for window in over_time:
        per_candidate[window["candidate_id"]] += window["votes"]
    assert dict(per_candidate) == {
        k: v["total_votes"] for k, v in expected_outputs(election, votes)["candidates"].items()
    }
    assert "[progress] vote_aggregation batch=" in result.stdout
    assert read_all(settings, topics["heartbeat"]), "the job publishes heartbeats while it runs"


def _driver_processes(checkpoint: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if checkpoint in cmdline:
            found.append(proc)
    return found


def test_kill_9_mid_stream_then_restart_loses_and_doubles_nothing(
    settings: Settings, election: Election, topics, tmp_path
) -> None:
    checkpoint = str(tmp_path / "checkpoint")
    start = dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
    votes = cast(election, election.voters, start)
    first, second = votes[:1_000], votes[1_000:]

    job = subprocess.Popen(
        job_command(settings, topics, checkpoint, trigger_interval="1 second", max_offsets_per_trigger=200),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=spark_environment(),
        start_new_session=True,
    )
    try:
        produce(settings, topics["votes"], [(v.voter_id, p) for v, _, p in first])
        deadline = time.monotonic() + 300
        while not latest_by_key(settings, topics["candidates"]):
            assert job.poll() is None, "the job stopped before producing any output"
            assert time.monotonic() < deadline, "no output within 5 minutes"
            time.sleep(1)
        # Some batches are committed, the rest of the backlog is in flight: kill the driver, JVM and Python.
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    partial = sum(v["total_votes"] for v in latest_by_key(settings, topics["candidates"]).values())
    assert 0 < partial < len(first), "killed mid-stream: some but not all of the first votes were counted"
    assert _driver_processes(checkpoint) == []

    # The rest of the votes, plus re-deliveries of votes already counted before the crash.
    produce(settings, topics["votes"], [(v.voter_id, p) for v, _, p in second + first[:300]])
    run_bounded(settings, topics, checkpoint)

    assert actual_outputs(settings, topics) == expected_outputs(election, votes)
    total = sum(v["total_votes"] for v in latest_by_key(settings, topics["candidates"]).values())
    assert total == len(election.voters)
    assert sum(v["total_votes"] for v in latest_by_key(settings, topics["turnout"]).values()) == total
