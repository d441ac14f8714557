"""The vote stream with the real broker and spark-submit, on elections and topics of its own. Two jobs serve the
module, each JVM start and registry load paid once rather than once per test:

- the *running job* counts every open election as the platform's stream does (continuous, its registry polled every
  second): every forged or malformed record set aside with its reason while the totals stay exact, an election seeded
  while it runs counted without a restart, a flood of 100,000 malformed records that grows no state; then it is
  stopped and run again bounded with its dead letters' checkpoint removed: each is written again, still one per record;
- the *crashed job* (micro-batches of 200 records) is killed with SIGKILL in the middle of a backlog, then run again
  bounded from its checkpoint: nothing lost, nothing counted twice.

Both are started as on a clean install: SPARK_HOME unset, pyspark finds its own Spark."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import support

from election.config import Settings, Topics
from election.domain import age_band
from election.kafka_io import produce_all, reliable_producer
from election.records import encode_vote, vote_key
from election.results.race_calls import NATIONAL, decide
from election.streaming.checkpoint import MARKER
from election.streaming.registry import counted_elections
from election.streaming.submit import spark_environment, spark_submit_command

pytestmark = pytest.mark.timeout(900)
# The running job serves several tests: the stack is held for the whole module (tests/integration/lanes.py), so that no
# fault of the other lane (the stack restarted) lands between two of them.
JOBS_OUTLIVE_TESTS = True


@dataclass(frozen=True)
class Voter:
    voter_id: str
    state: str
    gender: str
    age: int  # on election day


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    party: str
    photo_url: str


@dataclass
class Election:
    election_id: int
    voters: list[Voter]
    candidates: list[Candidate]
    registered: dict[str, int]
    expected: dict[str, int]  # per state: the expected vote the seed set (registered × the state's turnout)


def load_election(settings: Settings, election_id: int) -> Election:
    with support.connect(settings) as conn:
        voters = [
            Voter(str(v), s, g, a)
            for v, s, g, a in conn.execute(
                "SELECT voter_id, address_state, gender, date_part('year', age(e.election_date, date_of_birth))::int"
                " FROM voters JOIN elections e USING (election_id) WHERE election_id = %s ORDER BY voter_id",
                (election_id,),
            ).fetchall()
        ]
        candidates = [
            Candidate(str(c), n, p, u)
            for c, n, p, u in conn.execute(
                "SELECT candidate_id, candidate_name, party_name, photo_url FROM candidates"
                " JOIN parties USING (election_id, party_id) WHERE election_id = %s ORDER BY party_id",
                (election_id,),
            ).fetchall()
        ]
        registered = dict(
            conn.execute(
                "SELECT address_state, count(*) FROM voters WHERE election_id = %s GROUP BY 1", (election_id,)
            ).fetchall()
        )
        expected = dict(
            conn.execute(
                "SELECT state_code, expected_votes FROM election_states WHERE election_id = %s", (election_id,)
            ).fetchall()
        )
    return Election(election_id, voters, candidates, registered, expected)


@pytest.fixture(scope="module")
def election(settings: Settings, tmp_path_factory) -> Election:
    return load_election(
        settings, support.new_election(settings, 2_000, 3, 44, staging=tmp_path_factory.mktemp("seed"))
    )


@pytest.fixture
def scratch(settings: Settings):
    with support.scratch_topics(settings, "stream") as (prefix, topics):
        yield prefix, topics


def job_environment(settings: Settings) -> dict[str, str]:
    """spark-submit's environment as on a clean install of the lock (no SPARK_HOME: pyspark finds its own Spark), the
    job authenticated as the admin (the only principal that may use topics of a test's own)."""
    environment = spark_environment(settings.kafka_admin)
    environment.pop("SPARK_HOME", None)
    return environment


def job_command(settings: Settings, prefix: str, checkpoint: str, elections: list[int] | None, **overrides):
    return spark_submit_command(
        settings,
        master="local[2]",
        topic_prefix=prefix,
        checkpoint_dir=checkpoint,
        shuffle_partitions=2,
        election_ids=",".join(map(str, elections)) if elections else None,
        **overrides,
    )


def run_bounded(settings: Settings, prefix: str, checkpoint: str, elections: list[int] | None):
    result = subprocess.run(
        job_command(settings, prefix, checkpoint, elections, available_now=True),
        capture_output=True,
        text=True,
        timeout=600,
        env=job_environment(settings),
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def ballot(election: Election, voter: Voter, candidate: Candidate, at: dt.datetime, **changes) -> bytes:
    """A vote as the caster produces it (changes: fields forged)."""
    vote = json.loads(
        encode_vote(
            election_id=election.election_id,
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
    )
    return json.dumps({k: v for k, v in {**vote, **changes}.items() if v is not ...}).encode()


def cast(election: Election, voters: list[Voter], start: dt.datetime) -> list[tuple[Voter, Candidate, bytes]]:
    rng = random.Random(len(voters))
    votes = []
    for i, voter in enumerate(voters):
        candidate = rng.choice(election.candidates)
        votes.append((voter, candidate, ballot(election, voter, candidate, start + dt.timedelta(milliseconds=37 * i))))
    return votes


def produce(settings: Settings, topic: str, records: list[tuple[str | None, bytes]]) -> None:
    produce_all(reliable_producer(settings.kafka_client_config()), topic, records)


def expected_outputs(election: Election, votes) -> dict[str, dict]:
    unique = {voter.voter_id: (voter, candidate) for voter, candidate, _ in votes}.values()
    per_candidate = Counter(c.candidate_id for _, c in unique)
    per_party = Counter(c.party for _, c in unique)
    per_state = Counter(v.state for v, _ in unique)
    per_state_candidate = Counter(f"{v.state}:{c.candidate_id}" for v, c in unique)
    per_cell = Counter(f"{v.gender}|{age_band(v.age)}" for v, _ in unique)
    e = election.election_id
    return {
        "candidate": {
            f"{e}:{c.candidate_id}": {
                "election_id": e,
                "candidate_id": c.candidate_id,
                "candidate_name": c.name,
                "party": c.party,
                "party_affiliation": c.party,
                "photo_url": c.photo_url,
                "total_votes": per_candidate[c.candidate_id],
            }
            for c in election.candidates
            if per_candidate[c.candidate_id]
        },
        "party": {f"{e}:{p}": {"election_id": e, "party": p, "total_votes": n} for p, n in per_party.items()},
        "state": {
            f"{e}:{state}": {
                "election_id": e,
                "state": state,
                "total_votes": n,
                "count": n,
                "registered_voters": election.registered[state],
                "turnout_pct": round(100.0 * n / election.registered[state], 2),
                "expected_votes": election.expected[state],  # as seeded: no simulation fixed it
                "pct_expected_counted": round(100.0 * n / election.expected[state], 1)
                if election.expected[state]
                else None,
            }
            for state, n in per_state.items()
        },
        "state_candidate": {f"{e}:{key}": n for key, n in per_state_candidate.items()},
        "demographic": {f"{e}:{cell}": n for cell, n in per_cell.items()},
    }


def actual_outputs(settings: Settings, topics: Topics, election_id: int | None = None) -> dict[str, dict]:
    """What the job published, of one election's keys (or of every key) on the topics."""

    def latest(topic: str) -> dict[str, dict]:
        return support.latest_by_key(settings, topic, election_id)

    def strip(values: dict[str, dict]) -> dict[str, dict]:
        return {k: {f: v for f, v in value.items() if f != "updated_at"} for k, value in values.items()}

    by = topics.by_dimension()
    return {
        "candidate": strip(latest(by["candidate"])),
        "party": strip(latest(by["party"])),
        "state": strip(latest(by["state"])),
        "state_candidate": {k: v["total_votes"] for k, v in latest(by["state_candidate"]).items()},
        "demographic": {k: v["total_votes"] for k, v in latest(by["demographic"]).items()},
    }


def forged_records(election: Election, other: Election) -> list[tuple[bytes, str]]:
    """One record per kind of forgery or defect, with the reason the stream must give it."""
    voter, candidate = election.voters[-1], election.candidates[0]
    unvoted = election.voters[-2]
    at = dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC)
    wrong_state = next(s for s in ("CA", "TX", "NY") if s != unvoted.state)
    other_party = next(c.party for c in election.candidates if c.party != candidate.party)
    return [
        (b"{this is not json", "malformed"),
        (ballot(election, voter, candidate, at, voter_id=...), "malformed"),
        (ballot(election, voter, candidate, at, election_id=...), "malformed"),
        (ballot(election, voter, candidate, at, voting_time="not a time"), "malformed"),
        (ballot(election, voter, candidate, at, vote="yes"), "malformed"),
        # a real voter's id in other case, and padded: never counted for that voter
        (ballot(election, unvoted, candidate, at, voter_id=unvoted.voter_id.upper()), "malformed"),
        (ballot(election, unvoted, candidate, at, voter_id=f" {unvoted.voter_id} "), "malformed"),
        (ballot(election, unvoted, candidate, at, voter_id=str(uuid.uuid4())), "unknown_voter"),
        (ballot(election, unvoted, candidate, at, address_state=wrong_state), "wrong_state"),
        (ballot(election, unvoted, candidate, at, party=other_party), "wrong_party"),
        (ballot(election, unvoted, candidate, at, candidate_id=str(uuid.uuid4())), "unknown_candidate"),
        (ballot(election, unvoted, other.candidates[0], at), "unknown_candidate"),  # another election's candidate
        (ballot(election, unvoted, candidate, at, election_id=987_654_321), "unknown_election"),
    ]


def stop_job(job: subprocess.Popen) -> None:
    """Stop a job started in its own session: SIGTERM to its process group, SIGKILL if it is still there in 60 s."""
    os.killpg(job.pid, signal.SIGTERM)
    try:
        job.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)


def _driver_processes(checkpoint: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if checkpoint in cmdline:
            found.append(proc)
    return found


def counted(settings: Settings, topics: Topics, election_id: int) -> int:
    return sum(
        v["total_votes"] for v in support.latest_by_key(settings, topics.votes_per_candidate, election_id).values()
    )


def keyed(election: Election, votes) -> list[tuple[str, bytes]]:
    return [(vote_key(election.election_id, v.voter_id), payload) for v, _, payload in votes]


# -- the running job -------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """One `[progress]` line of the job: a micro-batch of one query."""

    query: str
    batch: int
    rows: int
    state_rows: int


@dataclass
class RunningJob:
    process: subprocess.Popen
    prefix: str
    topics: Topics
    checkpoint: str
    other: Election  # a second election the job counts beside the module's
    votes: list = field(default_factory=list)  # every vote of the module's election produced, in order
    forged: list = field(default_factory=list)  # (payload, reason) of every forged record produced
    progress: list[Progress] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    def follow(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            if match := PROGRESS.match(line):
                query, batch, rows, state_rows = match.groups()
                self.progress.append(Progress(query, int(batch), int(rows), int(state_rows)))

    def state_rows(self, query: str) -> int:
        return next(p.state_rows for p in reversed(self.progress) if p.query == query)


PROGRESS = re.compile(r"\[progress\] (\S+) batch=(\d+) input=(\d+) rows .* state_rows=(\d+)")


@pytest.fixture(scope="module")
def running(settings: Settings, election: Election, tmp_path_factory) -> Iterator[RunningJob]:
    """The job as the platform runs it, on topics of its own: every election not yet certified, the registry polled
    every second; its state rows counted (the flood's test watches them), dead letters every 2 seconds."""
    other = load_election(settings, support.new_election(settings, 50, 2, 45, staging=tmp_path_factory.mktemp("other")))
    checkpoint = str(tmp_path_factory.mktemp("running") / "checkpoint")
    with support.scratch_topics(settings, "running") as (prefix, topics):
        command = job_command(
            settings,
            prefix,
            checkpoint,
            None,
            registry_poll_seconds=1,
            trigger_interval="1 second",
            dead_letter_trigger_interval="2 seconds",
            count_state_rows=True,
        )
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=job_environment(settings),
            start_new_session=True,
        )
        job = RunningJob(process, prefix, topics, checkpoint, other)
        threading.Thread(target=job.follow, daemon=True).start()
        try:
            yield job
        finally:
            if process.poll() is None:
                stop_job(process)


def heartbeat_elections(settings: Settings, topics: Topics, fresh_within: float = 10) -> set[int]:
    beats = [json.loads(v) for _, v in support.read_all(settings, topics.stream_heartbeat)]
    return set(beats[-1]["elections"]) if beats and time.time() - beats[-1]["timestamp"] < fresh_within else set()


def test_the_running_job_counts_exactly_and_sets_every_forgery_aside(
    settings: Settings, election: Election, running: RunningJob
) -> None:
    topics = running.topics
    support.wait_for(
        lambda: {election.election_id, running.other.election_id} <= heartbeat_elections(settings, topics),
        300,
        "the job to count both elections",
    )
    votes = cast(election, election.voters[:800], dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC))
    duplicates = random.Random(3).sample(votes, 60)
    forged = forged_records(election, running.other)
    records = keyed(election, votes + duplicates) + [(f"forged-{i}", payload) for i, (payload, _) in enumerate(forged)]
    random.Random(4).shuffle(records)
    produce(settings, topics.votes, records)
    running.votes += votes
    running.forged += forged

    expected = expected_outputs(election, running.votes)
    # every key the job published is the module's election's (the other one received no valid vote)
    support.wait_for(lambda: actual_outputs(settings, topics) == expected, 180, "the totals of every vote")
    letters = support.wait_for(
        lambda: (
            (found := support.latest_by_key(settings, topics.votes_dead_letter)) and len(found) >= len(forged) and found
        ),
        180,
        "every forged record set aside",
    )
    assert sorted((letter["payload"], letter["reason"]) for letter in letters.values()) == sorted(
        (payload.decode(), reason) for payload, reason in forged
    )
    for key, letter in letters.items():
        assert key == f"{letter['source_topic']}:{letter['source_partition']}:{letter['source_offset']}"
        assert letter["source_topic"] == topics.votes
        assert letter["detail"]
    # The per-minute series adds up to the totals: the same deduplicated votes, in the windows they were cast in.
    per_candidate = Counter()
    for window in support.latest_by_key(settings, topics.votes_over_time).values():
        per_candidate[window["candidate_id"]] += window["votes"]
    assert dict(per_candidate) == {v["candidate_id"]: v["total_votes"] for v in expected["candidate"].values()}
    assert any(p.query == "vote_aggregation" for p in running.progress), "a [progress] line per micro-batch"
    # Race calls: exactly the states whose count leaves no path to anyone else (a lead larger than the registered
    # voters who have not voted), each for its leader; the rest too close to call while the election is open.
    counts: dict[str, dict[str, int]] = {}
    for key, n in expected["state_candidate"].items():
        _, state, candidate_id = key.split(":")
        counts.setdefault(state, {})[candidate_id] = n
    decided = {
        state: decision.candidate_id
        for state, per_candidate in counts.items()
        if (decision := decide(per_candidate, election.registered[state] - sum(per_candidate.values())))
    }
    calls = support.latest_by_key(settings, topics.race_calls, election.election_id)
    assert {c["state"]: c["candidate_id"] for c in calls.values() if c["state"] != NATIONAL} == decided
    assert decided, "the fixture's small states are decided before everyone voted"
    assert all(c["tie"] or c["margin"] > c["remaining"] for c in calls.values() if c["state"] != NATIONAL)
    # The heartbeat lists exactly the elections the job counts: every one PostgreSQL has not certified.
    assert heartbeat_elections(settings, topics) == set(counted_elections(settings.stream_db))
    # The checkpoint is marked with where its offsets come from: these brokers, this topic.
    marked = json.loads((Path(running.checkpoint) / MARKER).read_text())
    assert marked["cluster_id"] == (settings.state_dir / "kafka" / "cluster-id").read_text().strip()
    assert (marked["topic"], bool(marked["topic_id"])) == (topics.votes, True)


def test_an_election_seeded_while_the_job_runs_is_counted_without_restarting_it(
    settings: Settings, running: RunningJob, tmp_path
) -> None:
    topics = running.topics
    pid = running.process.pid
    late = load_election(settings, support.new_election(settings, 300, 2, 46, staging=tmp_path))
    support.wait_for(
        lambda: late.election_id in heartbeat_elections(settings, topics),
        120,
        "the job to count the election seeded later",
    )
    votes = cast(late, late.voters[:200], dt.datetime(2026, 11, 3, 16, tzinfo=dt.UTC))
    produce(settings, topics.votes, keyed(late, votes))
    expected = {k: v["total_votes"] for k, v in expected_outputs(late, votes)["candidate"].items()}
    support.wait_for(
        lambda: (
            {
                k: v["total_votes"]
                for k, v in support.latest_by_key(settings, topics.votes_per_candidate, late.election_id).items()
            }
            == expected
        ),
        120,
        "the late election's votes counted",
    )
    assert running.process.poll() is None, "the same job, never restarted"
    assert running.process.pid == pid


def test_a_flood_of_malformed_records_is_counted_exactly_and_grows_no_state(
    settings: Settings, election: Election, running: RunningJob
) -> None:
    """100,000 malformed records in a row between two sets of votes: the job stays up, keeps counting, its state
    grows only by the votes, and the dead-letter topic holds exactly one message per bad record."""
    topics, key = running.topics, election.election_id
    before_votes = counted(settings, topics, key)
    votes = cast(election, election.voters[800:1_400], dt.datetime(2026, 11, 3, 17, tzinfo=dt.UTC))

    start = running.state_rows("vote_aggregation")
    produce(settings, topics.votes, keyed(election, votes[:300]))
    support.wait_for(
        lambda: (
            counted(settings, topics, key) == before_votes + 300
            and running.state_rows("vote_aggregation") >= start + 300
        ),
        300,
        "the first votes counted, with their state",
    )
    before = running.state_rows("vote_aggregation")

    bad = 100_000
    flood = [(f"junk-{i}", b"{not json" if i % 2 else json.dumps({"vote": i}).encode()) for i in range(bad)]
    produce(settings, topics.votes, flood)
    produce(settings, topics.votes, keyed(election, votes[300:]))
    running.votes += votes
    # Once the last vote is counted, the batch that counted it read the flood before it (produced earlier); its state
    # holds the 300 voters' keys at least.
    letters = support.wait_for(
        lambda: (
            counted(settings, topics, key) == before_votes + 600
            and running.state_rows("vote_aggregation") >= before + 300
            and (found := support.latest_by_key(settings, topics.votes_dead_letter))
            and len(found) >= bad + len(running.forged)
            and found
        ),
        300,
        "the votes after the flood counted, with their state, and every bad record set aside",
    )
    assert running.process.poll() is None, "the job stays up"
    flooded = {
        k: letter for k, letter in letters.items() if letter["payload"] not in {p.decode() for p, _ in running.forged}
    }
    assert len(flooded) == bad, "exactly one dead letter per bad record"
    assert {letter["reason"] for letter in flooded.values()} == {"malformed"}
    growth = running.state_rows("vote_aggregation") - before
    assert 0 < growth < 2_000, f"the state grew by {growth} rows: by the 300 votes' keys, not the 100,000 records"
    assert running.state_rows("vote_dead_letters") == 0, "the dead letters keep no state"


def test_dead_letters_written_again_stay_one_per_record(
    settings: Settings, election: Election, running: RunningJob
) -> None:
    """The job stopped, then run bounded with its dead letters' checkpoint removed: they are written again (twice in
    the log), still one per record on the compacted topic; the totals resume from their own checkpoint unchanged."""
    topics = running.topics
    stop_job(running.process)
    letters = support.latest_by_key(settings, topics.votes_dead_letter)
    # (more than once each already, when the job restarted its queries for an election made meanwhile: at least once)
    written = len(support.read_all(settings, topics.votes_dead_letter))
    shutil.rmtree(Path(running.checkpoint) / "dead_letters")

    run_bounded(settings, running.prefix, running.checkpoint, None)

    def found(letters: dict[str, dict]) -> dict[str, dict]:
        return {key: {f: v for f, v in letter.items() if f != "detected_at"} for key, letter in letters.items()}

    again = len(support.read_all(settings, topics.votes_dead_letter)) - written
    assert again == len(letters), "every one written again, once"
    again = support.latest_by_key(settings, topics.votes_dead_letter)
    assert found(again) == found(letters), "one per record, the same record's"
    counted_again = actual_outputs(settings, topics, election.election_id)
    assert counted_again == expected_outputs(election, running.votes), "no vote counted again"


# -- the crashed job -------------------------------------------------------------------------------------------


def test_kill_9_mid_stream_then_restart_loses_and_doubles_nothing(
    settings: Settings, election: Election, scratch, tmp_path
) -> None:
    prefix, topics = scratch
    checkpoint = str(tmp_path / "checkpoint")
    votes = cast(election, election.voters, dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC))
    first, second = votes[:1_000], votes[1_000:]
    key = election.election_id

    job = subprocess.Popen(
        job_command(settings, prefix, checkpoint, [key], trigger_interval="1 second", max_offsets_per_trigger=200),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=job_environment(settings),
        start_new_session=True,
    )
    try:
        produce(settings, topics.votes, keyed(election, first))
        support.wait_for(
            lambda: job.poll() is None and support.latest_by_key(settings, topics.votes_per_candidate),
            300,
            "the job's first output",
        )
        # Some batches are committed, the rest of the backlog is in flight: kill the driver, JVM and Python.
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    partial = sum(v["total_votes"] for v in support.latest_by_key(settings, topics.votes_per_candidate).values())
    assert 0 < partial < len(first), "killed mid-stream: some but not all of the first votes were counted"
    assert _driver_processes(checkpoint) == []

    # The rest of the votes, plus re-deliveries of votes already counted before the crash.
    produce(settings, topics.votes, keyed(election, second + first[:300]))
    run_bounded(settings, prefix, checkpoint, [key])

    assert actual_outputs(settings, topics) == expected_outputs(election, votes)
    total = sum(v["total_votes"] for v in support.latest_by_key(settings, topics.votes_per_candidate).values())
    assert total == len(election.voters)
    # Told to count one election (--election-ids), the job's heartbeat lists that one only.
    beats = [json.loads(value) for _, value in support.read_all(settings, topics.stream_heartbeat)]
    assert beats
    assert beats[-1]["elections"] == [key]


def test_a_checkpoint_of_another_kafka_cluster_is_refused_before_the_stream_starts(
    settings: Settings, scratch, tmp_path
) -> None:
    """A checkpoint another cluster wrote (as the single node's checkpoint handed to the cluster profile) is refused
    with the setting to change, instead of the stream failing on offsets that mean nothing here. (A new checkpoint
    is marked with its source: the bounded run above checks that.)"""
    prefix, _ = scratch
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / MARKER).write_text(
        json.dumps({"cluster_id": "AnotherClusterIdAAAAAA", "topic": f"{prefix}votes_topic", "topic_id": "x"})
    )
    refused = subprocess.run(
        job_command(settings, prefix, str(theirs), [987_654_320], available_now=True),
        capture_output=True,
        text=True,
        timeout=600,
        env=spark_environment(settings.kafka_admin),
        check=False,
    )
    assert refused.returncode != 0
    assert "another Kafka cluster" in refused.stdout, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "ELECTION_CHECKPOINT_DIR" in refused.stdout
    assert "[stream] counting" not in refused.stdout, "refused before any query started"
    assert sorted(p.name for p in theirs.iterdir()) == [MARKER], "nothing written into the refused checkpoint"
