"""What the streaming benchmarks share: votes of a workspace election, the job's command on the workspace's topics
(counting only the workspace's elections), and a sampler of the driver's resident memory."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

from election.records import encode_vote, vote_key
from election.streaming.submit import spark_environment, spark_submit_command
from helpers.workspace import Workspace


@dataclass(frozen=True)
class Ballot:
    key: str
    payload: bytes
    candidate_id: str


def ballots(space: Workspace, election_id: int, limit: int | None = None, seed: int = 1) -> list[Ballot]:
    """One vote per voter of the election (as the caster writes them), candidates drawn at random."""
    import datetime as dt

    with space.connect() as conn:
        candidates = conn.execute(
            "SELECT candidate_id::text, candidate_name, party_name, photo_url FROM candidates"
            " JOIN parties USING (election_id, party_id) WHERE election_id = %s",
            (election_id,),
        ).fetchall()
        voters = conn.execute(
            "SELECT voter_id::text, address_state, gender FROM voters WHERE election_id = %s LIMIT %s",
            (election_id, limit),
        ).fetchall()
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    result = []
    for voter_id, state, gender in voters:
        c = rng.choice(candidates)
        payload = encode_vote(
            election_id=election_id,
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
        result.append(Ballot(vote_key(election_id, voter_id), payload, c[0]))
    return result


def job_command(space: Workspace, checkpoint: str, **overrides) -> list[str]:
    return spark_submit_command(
        space.settings,
        master=space.settings.spark_master,  # local[*], or the cluster profile's standalone master
        topic_prefix=space.prefix,
        checkpoint_dir=checkpoint,
        election_ids=",".join(map(str, space.elections)),
        **overrides,
    )


def start_job(space: Workspace, checkpoint: str, **overrides) -> subprocess.Popen:
    """The job on the workspace, in its own session (so it can be stopped as a group), its stdout (progress lines)
    piped to the benchmark."""
    return subprocess.Popen(
        job_command(space, checkpoint, **overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=spark_environment(space.settings.kafka_admin),  # the workspace's topics: only the admin may use them
        start_new_session=True,
    )


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
