"""Vote casting against the real PostgreSQL and Kafka: exact turnout, one vote per voter, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import psycopg
import pytest
from confluent_kafka import Producer
from support import create_topics, delete_topics, read_all, seed_and_publish

from election.config import Settings
from election.kafka_io import reliable_producer
from election.voting.caster import CastRequest, VoteCaster, caster_consumer, load_electorate

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def topics(settings: Settings):
    prefix = f"test_cast_{uuid.uuid4().hex[:8]}_"
    names = {"voters": prefix + "voters", "votes": prefix + "votes"}
    create_topics(settings, {name: 3 for name in names.values()})
    yield names
    delete_topics(settings, list(names.values()))


def cast(settings: Settings, topics: dict[str, str], group: str, **request) -> tuple:
    request = CastRequest(**request)
    consumer = caster_consumer(settings.kafka_client_config(), group)
    try:
        with psycopg.connect(settings.election_db.conninfo()) as conn:
            electorate = load_electorate(conn, request)
        caster = VoteCaster(
            lambda: psycopg.connect(settings.election_db.conninfo()),
            consumer,
            reliable_producer(settings.kafka_client_config()),
            voters_topic=topics["voters"],
            votes_topic=topics["votes"],
            request=request,
        )
        return caster.run(electorate), electorate
    finally:
        consumer.close()


def votes_in_postgres(settings: Settings) -> dict[str, str]:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        return {str(v): str(c) for v, c in conn.execute("SELECT voter_id, candidate_id FROM votes").fetchall()}


def votes_on_topic(settings: Settings, topic: str) -> list[dict]:
    return [json.loads(value) for _, value in read_all(settings, topic)]


def test_exact_turnout_every_vote_published_once_and_the_configured_distribution(settings: Settings, topics) -> None:
    seed_and_publish(settings, voters=3_000, candidates=3, random_seed=31, voters_topic=topics["voters"])
    group = f"test-caster-{uuid.uuid4().hex}"
    report, electorate = cast(settings, topics, group, turnout=0.6, random_seed=5, batch_size=700)

    in_postgres = votes_in_postgres(settings)
    assert report.votes_cast == len(in_postgres) == round(3_000 * 0.6)
    published = votes_on_topic(settings, topics["votes"])
    assert len(published) == len(in_postgres), "each vote published exactly once"
    assert {v["voter_id"]: v["candidate_id"] for v in published} == in_postgres
    assert set(published[0]) == {
        "voter_id",
        "candidate_id",
        "candidate_name",
        "party",
        "photo_url",
        "address_state",
        "gender",
        "age",
        "voting_time",
        "vote",
    }

    # The candidates' shares follow the configured preferences of the states the voters live in.
    states = Counter(v["address_state"] for v in published)
    expected = electorate.preferences.expected_shares(states)
    observed = Counter(in_postgres.values())
    for candidate, share in expected.items():
        tolerance = 4 * (share * (1 - share) / len(in_postgres)) ** 0.5
        assert observed[candidate] / len(in_postgres) == pytest.approx(share, abs=tolerance)

    # A second run is a no-op: nothing new recorded, nothing re-published.
    again, _ = cast(settings, topics, group, turnout=0.6, random_seed=5)
    assert again.votes_cast == 0
    assert len(votes_on_topic(settings, topics["votes"])) == len(in_postgres)
    assert votes_in_postgres(settings) == in_postgres


def test_re_delivered_voters_and_bad_messages_cast_nothing_extra(settings: Settings, topics) -> None:
    seed_and_publish(settings, voters=1_000, candidates=2, random_seed=32, voters_topic=topics["voters"])
    producer = Producer(settings.kafka_client_config())
    valid = read_all(settings, topics["voters"])
    bad = [
        b"{not json",
        b'{"address_state": "CA"}',  # no voter_id
        json.dumps({"voter_id": "not-a-uuid", "address_state": "CA"}).encode(),
        json.dumps({"voter_id": str(uuid.uuid4()), "address_state": "CA"}).encode(),  # no such voter
    ]
    for value in bad:
        producer.produce(topics["voters"], key=b"bad", value=value)
    for key, value in valid[:100]:  # the seed published these voters again (a re-delivery)
        producer.produce(topics["voters"], key=key, value=value)
    assert producer.flush(30) == 0

    report, _ = cast(settings, topics, f"test-caster-{uuid.uuid4().hex}", turnout=1.0, random_seed=5)
    assert report.bad_messages == 3
    assert report.unknown_voters == 1
    assert report.already_voted == 100
    assert report.votes_cast == len(votes_in_postgres(settings)) == 1_000
    assert len(votes_on_topic(settings, topics["votes"])) == 1_000
    assert len(report.bad_samples) == 3


def test_kill_9_mid_run_then_re_run_keeps_every_invariant(settings: Settings, topics) -> None:
    voters, turnout = 60_000, 0.9
    seed_and_publish(settings, voters=voters, candidates=4, random_seed=33, voters_topic=topics["voters"])
    group = f"test-caster-{uuid.uuid4().hex}"
    command = [
        sys.executable,
        "-m",
        "election.voting",
        "cast",
        "--turnout",
        str(turnout),
        "--random-seed",
        "9",
        "--batch-size",
        "2000",
        "--group",
        group,
        "--voters-topic",
        topics["voters"],
        "--votes-topic",
        topics["votes"],
    ]
    caster = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(votes_in_postgres(settings)) < 5_000:
        assert caster.poll() is None, "the caster finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(caster.pid, signal.SIGKILL)
    caster.wait(30)
    killed_at = len(votes_in_postgres(settings))
    assert killed_at < round(voters * turnout), "killed mid-run"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]

    in_postgres = votes_in_postgres(settings)
    assert len(in_postgres) == round(voters * turnout), "exactly round(N x turnout) votes, none twice"
    published = votes_on_topic(settings, topics["votes"])
    assert {v["voter_id"]: v["candidate_id"] for v in published} == in_postgres, "every recorded vote published"
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM vote_outbox").fetchone() == (0,)
