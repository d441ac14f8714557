"""Publish a loaded election to Kafka: its candidates to `candidates_topic`, its voters to `voters_topic`.

What is published is read from the tables the load just validated (never from a staged file a later run may
have regenerated). Keys are `<election_id>:<id>`; values are JSON with the tables' columns and `election_id`.
Published once per election: `published_at` is set only after every message was acknowledged, together with
where the election's voters sit on each partition of `voters_topic` (the vote caster starts reading there). A
re-run after success publishes nothing; a re-run after a crash publishes again (consumers are idempotent: the
database allows one vote per voter and election).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl
import psycopg
import pyarrow as pa
from confluent_kafka import Producer

from election import elections
from election.kafka_io import produce_all
from election.pg_copy import copy_batches
from election.sql import read_sql

# The voters' columns as COPY writes them, typed for Arrow (a postcode is text: "02134" keeps its zero).
_VOTER_TYPES = {
    "election_id": pa.int64(),
    "date_of_birth": pa.date32(),
    "registered_age": pa.int32(),
    **{
        name: pa.string()
        for name in (
            "voter_id",
            "voter_name",
            "gender",
            "nationality",
            "registration_number",
            "address_street",
            "address_city",
            "address_state",
            "address_country",
            "address_postcode",
            "email",
            "phone_number",
            "cell_number",
            "picture",
        )
    },
}


@dataclass(frozen=True)
class PublishResult:
    published: bool
    candidates: int
    voters: int
    message: str


def record_key(election_id: int, entity_id: str) -> str:
    """The key of an election's record on Kafka: `<election_id>:<id>`."""
    return f"{election_id}:{entity_id}"


def candidate_records(conn: psycopg.Connection, election_id: int) -> list[tuple[str, str]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(read_sql("seed/candidate_records.sql"), {"election_id": election_id}).fetchall()
    return [(record_key(election_id, row["candidate_id"]), json.dumps(row)) for row in rows]


def voter_records(conn: psycopg.Connection, election_id: int) -> Iterator[tuple[str, bytes]]:
    """(key, JSON) per voter of the election, read with COPY and encoded a batch at a time by polars' native
    NDJSON writer (no Python object per field)."""
    prefix = f"{election_id}:"
    for batch in copy_batches(conn, read_sql("seed/voter_records.sql"), {"election_id": election_id}, _VOTER_TYPES):
        frame = pl.from_arrow(batch)
        buffer = io.BytesIO()
        frame.write_ndjson(buffer)
        keys = (prefix + voter_id for voter_id in frame["voter_id"].to_list())
        yield from zip(keys, buffer.getvalue().splitlines(), strict=True)


def publish_election(
    conn: psycopg.Connection,
    producer: Producer,
    election_id: int,
    *,
    candidates_topic: str,
    voters_topic: str,
    progress: Callable[[int], None] | None = None,
) -> PublishResult:
    election = elections.require(conn, election_id)
    conn.commit()
    if election.published_at is not None:
        return PublishResult(
            False, 0, 0, f"election {election_id} already published at {election.published_at:%Y-%m-%d %H:%M:%S}"
        )
    candidates = produce_all(producer, candidates_topic, candidate_records(conn, election_id))
    voters = produce_all(producer, voters_topic, voter_records(conn, election_id), progress=progress)
    with conn.transaction():
        elections.mark_published(conn, election_id, voters.offsets)
    return PublishResult(
        True,
        candidates.delivered,
        voters.delivered,
        f"election {election_id}: published {candidates.delivered} candidates and {voters.delivered:,} voters",
    )
