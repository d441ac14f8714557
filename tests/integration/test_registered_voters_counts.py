"""registered_voters_per_state is kept by the database, per election: after a COPY load, deletes and a move between
states it always equals counting the election's voters, and another election's counts never move."""

from __future__ import annotations

import psycopg
import support

from election.config import Settings

COUNTED = "SELECT address_state, count(*) FROM voters WHERE election_id = %(e)s GROUP BY 1"
KEPT = (
    "SELECT state_code, registered_voters FROM registered_voters_per_state "
    "WHERE election_id = %(e)s AND registered_voters > 0"
)


def _same(conn: psycopg.Connection, election_id: int) -> dict[str, int]:
    counted = dict(conn.execute(COUNTED, {"e": election_id}).fetchall())
    assert dict(conn.execute(KEPT, {"e": election_id}).fetchall()) == counted
    return counted


def test_the_counts_follow_every_change_to_an_elections_voters(settings: Settings, tmp_path) -> None:
    election = support.new_election(settings, voters=3_000, candidates=2, random_seed=5, staging=tmp_path)  # COPY
    other = support.new_election(settings, voters=500, candidates=2, random_seed=5, staging=tmp_path)
    with support.connect(settings) as conn:
        counted = _same(conn, election)
        others = _same(conn, other)
        assert sum(counted.values()) == 3_000
        conn.execute(
            "DELETE FROM voters WHERE election_id = %(e)s AND voter_id IN "
            "(SELECT voter_id FROM voters WHERE election_id = %(e)s AND address_state = 'CA' LIMIT 10)",
            {"e": election},
        )
        conn.execute(
            "UPDATE voters SET address_state = 'WY' WHERE election_id = %(e)s AND voter_id IN "
            "(SELECT voter_id FROM voters WHERE election_id = %(e)s AND address_state = 'TX' LIMIT 7)",
            {"e": election},
        )
        conn.commit()
        after = _same(conn, election)
        assert after["CA"] == counted["CA"] - 10
        assert after["WY"] == counted.get("WY", 0) + 7
        assert _same(conn, other) == others, "the same voters in another election are counted apart"
