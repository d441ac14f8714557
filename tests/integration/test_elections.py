"""An election's rules, enforced by PostgreSQL itself: one vote per voter per election, a vote names a candidate of
its own election, no vote once the election is closed (even one racing the close), and a status that only moves
forward."""

from __future__ import annotations

import threading

import psycopg
import pytest
import support

from election import elections
from election.config import Settings

VOTE = "INSERT INTO votes (election_id, voter_id, candidate_id) VALUES (%s, %s, %s)"


@pytest.fixture(scope="module")
def pair(settings: Settings, tmp_path_factory) -> tuple[int, int]:
    """Two elections generated from the same seed: the same voter ids and candidate ids in both."""
    staging = tmp_path_factory.mktemp("seed")
    return (
        support.new_election(settings, 200, 2, random_seed=12, staging=staging),
        support.new_election(settings, 200, 2, random_seed=12, staging=staging),
    )


def _voters(conn: psycopg.Connection, election_id: int, n: int) -> list[str]:
    rows = conn.execute(
        "SELECT voter_id::text FROM voters WHERE election_id = %s ORDER BY voter_id LIMIT %s", (election_id, n)
    ).fetchall()
    return [voter for (voter,) in rows]


def _candidate(conn: psycopg.Connection, election_id: int) -> str:
    return conn.execute(
        "SELECT candidate_id::text FROM candidates WHERE election_id = %s ORDER BY party_id LIMIT 1", (election_id,)
    ).fetchone()[0]


def test_one_vote_per_voter_per_election(settings: Settings, pair) -> None:
    a, b = pair
    with support.connect(settings, autocommit=True) as conn:
        (voter,) = _voters(conn, a, 1)
        assert _voters(conn, b, 1) == [voter], "the same voter is registered in both elections"
        conn.execute(VOTE, (a, voter, _candidate(conn, a)))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(VOTE, (a, voter, _candidate(conn, a)))
        conn.execute(VOTE, (b, voter, _candidate(conn, b)))  # their vote in the other election counts too
        assert conn.execute(
            "SELECT count(*) FROM votes WHERE voter_id = %s AND election_id IN (%s, %s)", (voter, a, b)
        ).fetchone() == (2,)


def test_a_vote_names_a_voter_and_a_candidate_of_its_own_election(settings: Settings, pair, tmp_path) -> None:
    a, _ = pair
    other = support.new_election(settings, 50, 3, random_seed=13, staging=tmp_path)
    with support.connect(settings, autocommit=True) as conn:
        voter = _voters(conn, a, 3)[-1]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(VOTE, (a, voter, _candidate(conn, other)))
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(VOTE, (a, _voters(conn, other, 1)[0], _candidate(conn, a)))


def test_a_closed_election_refuses_votes_even_one_racing_the_close(settings: Settings, tmp_path) -> None:
    election_id = support.new_election(settings, 100, 2, random_seed=14, staging=tmp_path)
    with support.connect(settings) as voting, support.connect(settings, autocommit=True) as other:
        first, second = _voters(other, election_id, 2)
        candidate = _candidate(other, election_id)
        voting.execute(VOTE, (election_id, first, candidate))  # recorded, not committed yet

        closed = threading.Event()
        closing = support.connect(settings)

        def close() -> None:
            with closing:
                elections.close(closing, election_id)
            closed.set()

        closer = threading.Thread(target=close)
        closer.start()
        support.wait_for(
            lambda: (
                other.execute(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (closing.info.backend_pid,)
                ).fetchone()
                == (True,)
            ),
            30,
            "the close to wait on a lock",
            interval=0.1,
        )
        assert not closed.is_set(), "closing waits for the vote being recorded"
        voting.commit()
        closer.join(10)
        assert closed.is_set()

        assert elections.require(other, election_id).status == "closed"
        with pytest.raises(psycopg.errors.CheckViolation, match=f"election {election_id} is closed"):
            other.execute(VOTE, (election_id, second, candidate))
        assert other.execute("SELECT count(*) FROM votes WHERE election_id = %s", (election_id,)).fetchone() == (1,)


def test_the_status_only_moves_forward(settings: Settings, tmp_path) -> None:
    election_id = support.new_election(settings, 20, 2, random_seed=15, staging=tmp_path)
    with support.connect(settings, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "UPDATE elections SET status = 'certified', certified_at = now() WHERE election_id = %s", (election_id,)
            )
        assert elections.close(conn, election_id)
        assert not elections.close(conn, election_id), "closing twice changes nothing"
        assert elections.mark_certified(conn, election_id)
        with pytest.raises(psycopg.errors.CheckViolation, match="cannot go from certified to open"):
            conn.execute(
                "UPDATE elections SET status = 'open', closed_at = NULL, certified_at = NULL WHERE election_id = %s",
                (election_id,),
            )
