"""registered_voters_per_state is kept by the database: after a COPY load, deletes, a move between states and a
TRUNCATE it always equals counting the voters."""

from __future__ import annotations

import psycopg
from support import reset_election_data, seed_election

from election.config import Settings

COUNTED = "SELECT address_state, count(*) FROM voters GROUP BY 1"
KEPT = "SELECT state_code, registered_voters FROM registered_voters_per_state WHERE registered_voters > 0"


def _same(conn: psycopg.Connection) -> dict[str, int]:
    counted = dict(conn.execute(COUNTED).fetchall())
    assert dict(conn.execute(KEPT).fetchall()) == counted
    return counted


def test_the_counts_follow_every_change_to_voters(settings: Settings) -> None:
    seed_election(settings, voters=3_000, candidates=2, random_seed=5)  # the seed's COPY
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        counted = _same(conn)
        assert sum(counted.values()) == 3_000
        conn.execute(
            "DELETE FROM voters WHERE voter_id IN (SELECT voter_id FROM voters WHERE address_state = 'CA' LIMIT 10)"
        )
        conn.execute(
            "UPDATE voters SET address_state = 'WY' "
            "WHERE voter_id IN (SELECT voter_id FROM voters WHERE address_state = 'TX' LIMIT 7)"
        )
        conn.commit()
        after = _same(conn)
        assert after["CA"] == counted["CA"] - 10
        assert after["WY"] == counted.get("WY", 0) + 7
    reset_election_data(settings)  # TRUNCATE ... CASCADE
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        assert _same(conn) == {}
