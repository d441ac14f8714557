"""What the streaming benchmarks share: a seeded scratch election, the job's command on scratch topics, votes,
and a sampler of the driver's resident memory."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil
from scratch import Scratch

from election.records import encode_vote
from election.seeding import pipeline
from election.seeding.staging import SeedRequest
from election.streaming.submit import spark_environment, spark_submit_command

OUTPUTS = ("candidates", "parties", "turnout", "demographics", "over_time", "dead_letter", "heartbeat")
TOPICS = {"votes": 3, **dict.fromkeys(OUTPUTS, 1)}


def seed_scratch(space: Scratch, voters: int, candidates: int = 5) -> None:
    staging = space.settings.state_dir / f"bench-stage-{space.schema}"
    staged = pipeline.generate_step(SeedRequest(voters, candidates, 7, space.settings.election_date), staging)
    with space.connect() as conn:
        pipeline.load_step(conn, staged)
    import shutil

    shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class Ballot:
    voter_id: str
    payload: bytes
    candidate_id: str


def ballots(space: Scratch, limit: int | None = None, seed: int = 1) -> list[Ballot]:
    """One vote per voter of the scratch election, candidates drawn at random (payloads encoded up front)."""
    import datetime as dt

    with space.connect() as conn:
        candidates = conn.execute(
            "SELECT candidate_id::text, candidate_name, party_name, photo_url FROM candidates JOIN parties "
            "USING (party_id)"
        ).fetchall()
        query = "SELECT voter_id::text, address_state, gender FROM voters" + (" LIMIT %s" if limit else "")
        voters = conn.execute(query, (limit,) if limit else ()).fetchall()
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    result = []
    for voter_id, state, gender in voters:
        c = rng.choice(candidates)
        payload = encode_vote(
            voter_id=voter_id,
            candidate_id=c[0],
            candidate_name=c[1],
            party=c[2],
            photo_url=c[3],
            address_state=state,
            gender=gender,
            age=rng.randint(18, 90),
            voting_time=now,
        )
        result.append(Ballot(voter_id, payload, c[0]))
    return result


def job_command(space: Scratch, checkpoint: str, **overrides) -> list[str]:
    t = space.topic
    return spark_submit_command(
        space.settings,
        master="local[*]",
        votes_topic=t("votes"),
        candidates_topic_out=t("candidates"),
        parties_topic_out=t("parties"),
        turnout_topic_out=t("turnout"),
        demographics_topic_out=t("demographics"),
        over_time_topic_out=t("over_time"),
        dead_letter_topic=t("dead_letter"),
        heartbeat_topic=t("heartbeat"),
        checkpoint_dir=checkpoint,
        **overrides,
    )


def job_environment(space: Scratch) -> dict[str, str]:
    return {**spark_environment(), "PGOPTIONS": space.pgoptions}


@dataclass
class MemorySampler:
    """Peak resident memory of a process and its children (the JVM driver and the Python driver)."""

    pid: int
    interval: float = 0.2
    peak_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                self.peak_mb = max(self.peak_mb, rss / 2**20)
            except psutil.NoSuchProcess:
                return
            time.sleep(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(2)
        return self.peak_mb


def start_job(space: Scratch, checkpoint: str) -> subprocess.Popen:
    """The streaming job on the scratch election, in its own session (so it can be stopped as a group), its
    stdout (progress lines) piped to the benchmark."""
    return subprocess.Popen(
        job_command(space, checkpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=job_environment(space),
        start_new_session=True,
    )
