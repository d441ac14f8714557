"""An election's identity and lifecycle: the one place that knows how to find, create, close and certify one.

An election is a row of `elections`: `open` (votes accepted) → `closed` (no more votes; the count finishes) →
`certified` (the stream's totals agreed with PostgreSQL and the result is final). The database enforces the
order (a trigger refuses any other move) and refuses votes for an election that is not open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from election.domain import CERTIFIED, CLOSED, OPEN
from election.sql import read_sql


class ElectionNotFoundError(LookupError):
    """No such election (or no open one when the newest open election was asked for)."""


@dataclass(frozen=True)
class Election:
    election_id: int
    name: str
    status: str
    random_seed: int
    num_voters: int
    num_candidates: int
    election_date: dt.date
    seed_run: str | None
    created_at: dt.datetime
    published_at: dt.datetime | None
    voter_offsets: dict[str, list[int]] | None  # partition -> [first, last] offset of its voters on voters_topic
    closed_at: dt.datetime | None
    certified_at: dt.datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED

    @property
    def is_certified(self) -> bool:
        return self.status == CERTIFIED

    def describe(self) -> str:
        return f"election {self.election_id} ({self.name!r}, {self.status})"


def _one(conn: psycopg.Connection, name: str, params: dict | None = None) -> Election | None:
    with conn.cursor(row_factory=class_row(Election)) as cur:
        return cur.execute(read_sql(name), params).fetchone()


def get(conn: psycopg.Connection, election_id: int) -> Election | None:
    return _one(conn, "elections/by_id.sql", {"election_id": election_id})


def require(conn: psycopg.Connection, election_id: int) -> Election:
    election = get(conn, election_id)
    if election is None:
        raise ElectionNotFoundError(f"there is no election {election_id}")
    return election


def by_seed_run(conn: psycopg.Connection, seed_run: str) -> Election | None:
    return _one(conn, "elections/by_seed_run.sql", {"seed_run": seed_run})


def newest_open(conn: psycopg.Connection) -> Election | None:
    return _one(conn, "elections/newest_open.sql")


def resolve(conn: psycopg.Connection, election_id: int | None) -> Election:
    """The election asked for, or, when none is named, the newest open one."""
    if election_id is not None:
        return require(conn, election_id)
    election = newest_open(conn)
    if election is None:
        raise ElectionNotFoundError("no open election: run election_seed first")
    return election


def all_elections(conn: psycopg.Connection) -> list[Election]:
    with conn.cursor(row_factory=class_row(Election)) as cur:
        return cur.execute(read_sql("elections/all.sql")).fetchall()


def create(
    conn: psycopg.Connection,
    *,
    name: str,
    random_seed: int,
    num_voters: int,
    num_candidates: int,
    election_date: dt.date,
    seed_run: str | None,
    turnout_min: float | None = None,
    turnout_max: float | None = None,
) -> int:
    """A new, open election, in the caller's transaction; its id. Its states' expected turnouts are drawn between
    `turnout_min` and `turnout_max` when its voters are loaded."""
    row = conn.execute(
        read_sql("elections/create.sql"),
        {
            "name": name,
            "random_seed": random_seed,
            "num_voters": num_voters,
            "num_candidates": num_candidates,
            "election_date": election_date,
            "seed_run": seed_run,
            "turnout_min": turnout_min,
            "turnout_max": turnout_max,
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


def mark_published(conn: psycopg.Connection, election_id: int, voter_offsets: Mapping[int, tuple[int, int]]) -> None:
    """Every voter and candidate is on Kafka; `voter_offsets`: partition -> (first, last) offset of its voters."""
    offsets = {str(partition): list(span) for partition, span in sorted(voter_offsets.items())}
    conn.execute(
        read_sql("elections/mark_published.sql"), {"election_id": election_id, "voter_offsets": Jsonb(offsets)}
    )


def close(conn: psycopg.Connection, election_id: int) -> bool:
    """Stop accepting votes (waits for votes being recorded). False when it was no longer open."""
    return conn.execute(read_sql("elections/close.sql"), {"election_id": election_id}).rowcount == 1


def mark_certified(conn: psycopg.Connection, election_id: int) -> bool:
    """closed → certified, in the caller's transaction (with the certified results). False if not closed."""
    return conn.execute(read_sql("elections/certify.sql"), {"election_id": election_id}).rowcount == 1


def delete(conn: psycopg.Connection, election_id: int) -> None:
    """Remove an election and everything that belongs to it (tests and benchmarks remove the ones they made)."""
    conn.execute(read_sql("elections/delete.sql"), {"election_id": election_id})
