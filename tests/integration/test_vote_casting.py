"""Vote casting against the real PostgreSQL and Kafka, each test on an election and topics of its own: exact turnout,
one vote per voter, only the election's own voters, crash safety, and a closed election refusing votes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import psycopg
import pytest
import support

from election.config import Settings
from election.kafka_io import produce_all, reliable_producer
from election.voting.caster import ElectionNotOpenError

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def topics(settings: Settings):
    with support.scratch_topics(settings, "cast") as (_, topics):
        yield topics


def votes_on_topic(settings: Settings, topic: str) -> list[tuple[str, dict]]:
    return [(key, json.loads(value)) for key, value in support.read_all(settings, topic)]


def test_exact_turnout_every_vote_published_once_and_the_configured_distribution(
    settings: Settings, topics, tmp_path
) -> None:
    election_id = support.new_election(settings, voters=3_000, candidates=3, random_seed=31, staging=tmp_path)
    support.publish(settings, election_id, topics)
    report = support.cast(settings, election_id, topics, turnout=0.6, random_seed=5, batch_size=700)

    in_postgres = support.votes_in_postgres(settings, election_id)
    assert report.votes_cast == len(in_postgres) == round(3_000 * 0.6)
    with support.connect(settings) as conn:  # the count the database keeps (two recorders, sharded) is exact
        kept = conn.execute("SELECT votes FROM results.votes_recorded WHERE election_id = %s", (election_id,))
        assert kept.fetchone() == (len(in_postgres),)
        conn.execute(
            "DELETE FROM votes WHERE election_id = %s AND voter_id = ANY(%s)", (election_id, [*in_postgres][:7])
        )
        kept = conn.execute("SELECT votes FROM results.votes_recorded WHERE election_id = %s", (election_id,))
        assert kept.fetchone() == (len(in_postgres) - 7,), "a deleted vote leaves the count"
        conn.rollback()
    published = votes_on_topic(settings, topics.votes)
    assert len(published) == len(in_postgres), "each vote published exactly once"
    assert {v["voter_id"]: v["candidate_id"] for _, v in published} == in_postgres
    assert all(key == f"{election_id}:{v['voter_id']}" and v["election_id"] == election_id for key, v in published)
    assert set(published[0][1]) == {
        "election_id",
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
    # The candidates' shares follow the configured preferences of the states the voters live in (the electorate is
    # rebuilt from PostgreSQL exactly as the run built it).
    from election.voting.caster import CastRequest, load_electorate

    with support.connect(settings) as conn:
        electorate = load_electorate(conn, CastRequest(election_id=election_id, turnout=0.6, random_seed=5))
    states = Counter(v["address_state"] for _, v in published)
    expected = electorate.preferences.expected_shares(states)
    observed = Counter(in_postgres.values())
    for candidate, share in expected.items():
        tolerance = 4 * (share * (1 - share) / len(in_postgres)) ** 0.5
        assert observed[candidate] / len(in_postgres) == pytest.approx(share, abs=tolerance)


def test_a_second_run_is_a_no_op_and_other_elections_voters_are_never_cast(
    settings: Settings, topics, tmp_path
) -> None:
    first = support.new_election(settings, voters=1_000, candidates=2, random_seed=32, staging=tmp_path)
    second = support.new_election(settings, voters=700, candidates=2, random_seed=32, staging=tmp_path)
    for election_id in (first, second):  # the same voter ids in both: only the election's own ones count
        support.publish(settings, election_id, topics)
    from election.voting.caster import CastRequest, cast_election

    def run(election_id: int, group: str):
        return cast_election(
            lambda: support.connect(settings),
            settings.kafka_client_config(),
            CastRequest(election_id=election_id, turnout=1.0, random_seed=5),
            voters_topic=topics.voters,
            votes_topic=topics.votes,
            group_prefix=group,
        )

    report = run(first, "test-rerun")
    assert report.votes_cast == 1_000
    assert report.other_elections == 0, "the caster reads only where the seed put the election's voters"
    again = run(first, "test-rerun")
    assert again.votes_cast == 0, "a re-run for an election fully voted is a no-op"
    assert again.messages_read == 0
    assert run(second, "test-rerun").votes_cast == 700, "each election has its own consumer group"
    assert len(support.votes_in_postgres(settings, first)) == 1_000
    assert len(support.votes_in_postgres(settings, second)) == 700
    assert len(support.read_all(settings, topics.votes)) == 1_700


def test_re_delivered_voters_and_bad_messages_cast_nothing_extra(settings: Settings, topics, tmp_path) -> None:
    election_id = support.new_election(settings, voters=1_000, candidates=2, random_seed=33, staging=tmp_path)
    support.publish(settings, election_id, topics)
    valid = support.read_all(settings, topics.voters)
    bad = [
        b"{not json",
        json.dumps({"election_id": election_id, "address_state": "CA"}).encode(),  # no voter_id
        json.dumps({"election_id": election_id, "voter_id": "not-a-uuid", "address_state": "CA"}).encode(),
        json.dumps(
            {"election_id": election_id, "voter_id": "00000000-0000-4000-8000-0000000000aa", "address_state": "CA"}
        ).encode(),  # no such voter
    ]
    # appended after the election's voters: the caster's range ends where the seed's publication ended, so these are
    # planted inside it by re-publishing the election (a seed run retried after a crash re-publishes too)
    produce_all(
        reliable_producer(settings.kafka_client_config()), topics.voters, [("bad", v) for v in bad] + valid[:100]
    )
    with support.connect(settings) as conn:
        conn.execute(
            "UPDATE elections SET voter_offsets = NULL WHERE election_id = %s", (election_id,)
        )  # read the whole topic, as for an election published before offsets were recorded
    report = support.cast(settings, election_id, topics, turnout=1.0, random_seed=5)
    assert report.bad_messages == 3
    assert report.unknown_voters == 1
    assert report.already_voted == 100
    assert report.votes_cast == len(support.votes_in_postgres(settings, election_id)) == 1_000
    assert len(support.read_all(settings, topics.votes)) == 1_000
    assert len(report.bad_samples) == 3


def test_kill_9_mid_run_then_re_run_keeps_every_invariant(settings: Settings, topics, tmp_path) -> None:
    voters, turnout = 60_000, 0.9
    election_id = support.new_election(settings, voters=voters, candidates=4, random_seed=34, staging=tmp_path)
    support.publish(settings, election_id, topics)
    command = [
        sys.executable,
        "-m",
        "election.voting",
        "cast",
        "--election-id",
        str(election_id),
        "--turnout",
        str(turnout),
        "--random-seed",
        "9",
        "--batch-size",
        "2000",
        "--group",
        f"test-kill-{election_id}",
        "--voters-topic",
        topics.voters,
        "--votes-topic",
        topics.votes,
    ]
    caster = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def some_recorded() -> bool:
        assert caster.poll() is None, "the caster finished before it could be killed"
        return len(support.votes_in_postgres(settings, election_id)) >= 5_000

    support.wait_for(some_recorded, 300, "5,000 votes recorded", interval=0.05)
    os.killpg(caster.pid, signal.SIGKILL)
    caster.wait(30)
    killed_at = len(support.votes_in_postgres(settings, election_id))
    assert killed_at < round(voters * turnout), "killed mid-run"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]

    in_postgres = support.votes_in_postgres(settings, election_id)
    assert len(in_postgres) == round(voters * turnout), "exactly round(N x turnout) votes, none twice"
    published = [json.loads(value) for _, value in support.read_all(settings, topics.votes)]
    assert {v["voter_id"]: v["candidate_id"] for v in published} == in_postgres, "every recorded vote published"
    with support.connect(settings) as conn:
        assert conn.execute("SELECT count(*) FROM vote_outbox WHERE election_id = %s", (election_id,)).fetchone() == (
            0,
        )


def test_a_closed_election_casts_nothing(settings: Settings, topics, tmp_path) -> None:
    election_id = support.new_election(settings, voters=300, candidates=2, random_seed=35, staging=tmp_path)
    support.publish(settings, election_id, topics)
    support.close_election(settings, election_id)
    with pytest.raises(ElectionNotOpenError, match=f"election {election_id}"):
        support.cast(settings, election_id, topics, turnout=1.0)
    assert support.votes_in_postgres(settings, election_id) == {}


def test_the_outbox_left_by_a_crash_is_published_by_the_next_run(settings: Settings, topics, tmp_path) -> None:
    """The state a crash leaves between the votes' commit and Kafka's acknowledgement, planted: votes recorded, their
    outbox row written, nothing published. The next run publishes them first (its report says so)."""
    election_id = support.new_election(settings, voters=400, candidates=2, random_seed=36, staging=tmp_path)
    support.publish(settings, election_id, topics)
    with support.connect(settings) as conn:
        candidate = conn.execute(
            "SELECT candidate_id FROM candidates WHERE election_id = %s LIMIT 1", (election_id,)
        ).fetchone()[0]
        voters = [
            v
            for (v,) in conn.execute(
                "SELECT voter_id FROM voters WHERE election_id = %s ORDER BY voter_id LIMIT 25", (election_id,)
            )
        ]
        with conn.transaction():
            for voter in voters:
                conn.execute(
                    "INSERT INTO votes (election_id, voter_id, candidate_id) VALUES (%s, %s, %s)",
                    (election_id, voter, candidate),
                )
            conn.execute("INSERT INTO vote_outbox (election_id, voter_ids) VALUES (%s, %s)", (election_id, voters))
    assert support.read_all(settings, topics.votes) == []
    report = support.cast(settings, election_id, topics, turnout=0.5, random_seed=3)
    assert report.republished == 25
    published = {json.loads(value)["voter_id"] for _, value in support.read_all(settings, topics.votes)}
    assert {str(v) for v in voters} <= published
    assert published == set(support.votes_in_postgres(settings, election_id))
    with support.connect(settings) as conn:
        assert conn.execute("SELECT count(*) FROM vote_outbox WHERE election_id = %s", (election_id,)).fetchone() == (
            0,
        )


def test_votes_into_an_election_being_closed_are_refused_by_the_database(settings: Settings, tmp_path) -> None:
    """Even a caster that skipped its own check: PostgreSQL refuses the insert."""
    election_id = support.new_election(settings, voters=10, candidates=2, random_seed=37, staging=tmp_path)
    support.close_election(settings, election_id)
    with support.connect(settings) as conn:
        voter, candidate = support.a_voter_and_candidate(conn, election_id)
        with pytest.raises(psycopg.errors.CheckViolation, match="accepts no more votes"):
            conn.execute(
                "INSERT INTO votes (election_id, voter_id, candidate_id) VALUES (%s, %s, %s)",
                (election_id, voter, candidate),
            )


def test_east_to_west_casts_each_state_its_expected_vote_in_waves_and_closes_their_polls(
    settings: Settings, topics, tmp_path
) -> None:
    """The seeded per-state turnouts, cast wave by wave by time zone: each state gets exactly its expected vote, a
    wave's votes all come before the next wave's, its polls close once they are in, and PostgreSQL then refuses any
    vote there (the caster's next read skips those states)."""
    from itertools import pairwise

    from election.regions import time_zones
    from election.voting.reporting import waves

    election_id = support.new_election(settings, voters=3_000, candidates=3, random_seed=38, staging=tmp_path)
    support.publish(settings, election_id, topics)
    report = support.cast(settings, election_id, topics, random_seed=6, reporting_order="east_to_west", batch_size=250)

    with support.connect(settings) as conn:
        day, low, high = conn.execute(
            "SELECT election_date, turnout_min, turnout_max FROM elections WHERE election_id = %s", (election_id,)
        ).fetchone()
        states = {
            state: (turnout, expected, closed_at)
            for state, turnout, expected, closed_at in conn.execute(
                "SELECT state_code, expected_turnout, expected_votes, polls_closed_at FROM election_states"
                " WHERE election_id = %s",
                (election_id,),
            )
        }
        votes = {
            state: (n, first, last, stored)
            for state, n, first, last, stored in conn.execute(
                "SELECT w.address_state, count(*), min(v.voting_time), max(v.voting_time), max(v.recorded_at)"
                " FROM votes v JOIN voters w USING (election_id, voter_id) WHERE v.election_id = %s GROUP BY 1",
                (election_id,),
            )
        }
    turnouts = [turnout for turnout, _, _ in states.values()]
    assert all(low <= t <= high for t in turnouts), "each state's expected turnout within the seed's bounds"
    assert len(set(turnouts)) > len(turnouts) // 2, "the turnouts vary by state"
    assert {s: votes.get(s, (0,))[0] for s in states} == {s: expected for s, (_, expected, _) in states.items()}
    assert report.votes_cast == sum(expected for _, expected, _ in states.values())
    assert all(closed_at is not None for _, _, closed_at in states.values()), "every wave's polls closed"
    for state, (_, _, _, stored) in votes.items():
        assert stored <= states[state][2], f"{state}: every vote recorded before its polls closed"
    order = [[s for s in wave if s in votes] for wave in waves(states, time_zones(), "east_to_west", day)]
    assert len([wave for wave in order if wave]) >= 4, "the voters span several time zones"
    for earlier, later in pairwise([wave for wave in order if wave]):
        assert max(votes[s][2] for s in earlier) <= min(votes[s][1] for s in later), "wave by wave, east first"
        assert max(states[s][2] for s in earlier) <= min(states[s][2] for s in later), "polls close east first"

    with support.connect(settings) as conn:
        abstainer, state = conn.execute(
            "SELECT w.voter_id, w.address_state FROM voters w WHERE w.election_id = %s"
            " AND NOT EXISTS (SELECT FROM votes v WHERE v.election_id = w.election_id AND v.voter_id = w.voter_id)"
            " LIMIT 1",
            (election_id,),
        ).fetchone()
        candidate = conn.execute("SELECT candidate_id FROM candidates WHERE election_id = %s LIMIT 1", (election_id,))
        with pytest.raises(psycopg.errors.CheckViolation, match=f"polls of {state} closed"):
            conn.execute(
                "INSERT INTO votes (election_id, voter_id, candidate_id) VALUES (%s, %s, %s)",
                (election_id, abstainer, candidate.fetchone()[0]),
            )
    again = support.cast(settings, election_id, topics, random_seed=6, reporting_order="east_to_west")
    assert (again.votes_cast, again.polls_closed) == (0, 3_000), "a new group reads every voter: all skipped"
