"""The vote caster's transactional outbox: votes recorded in PostgreSQL but not yet acknowledged by Kafka.

Each batch of votes writes, in its own transaction, one `vote_outbox` row listing its voters; the row is deleted
once Kafka acknowledged every vote of the batch. What a crash leaves behind is published again, its records rebuilt
from the tables, by the election's next caster run and by its certification (which must count every vote).
"""

from __future__ import annotations

import logging

import msgspec
import psycopg
from confluent_kafka import Producer

from election.kafka_io import produce_all
from election.records import CandidateLabel, VoteRecord, vote_key
from election.sql import read_sql

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode


def candidate_labels(conn: psycopg.Connection, election_id: int) -> dict[str, CandidateLabel]:
    """The election's candidates in party order, with the labels every vote record carries."""
    rows = conn.execute(read_sql("voting/election_candidates.sql"), {"election_id": election_id}).fetchall()
    return {cid: CandidateLabel(name, party, photo) for cid, name, party, photo in rows}


def vote_records(
    election_id: int,
    labels: dict[str, CandidateLabel],
    voter_ids: list[str],
    candidate_ids: list[str],
    voting_times: list[str],
    states: list[str],
    genders: list[str],
    ages: list[int],
) -> list[bytes]:
    """The votes_topic records of recorded votes (format: election.records.VoteRecord). The voter's state, gender
    and age come from the registry's rows, as cast_votes.sql / pending_outbox.sql return them."""
    records = []
    for voter_id, candidate_id, voting_time, state, gender, age in zip(
        voter_ids, candidate_ids, voting_times, states, genders, ages, strict=True
    ):
        label = labels[candidate_id]
        record = VoteRecord(
            election_id=election_id,
            voter_id=voter_id,
            candidate_id=candidate_id,
            candidate_name=label.candidate_name,
            party=label.party,
            photo_url=label.photo_url,
            address_state=state,
            gender=gender,
            age=age,
            voting_time=voting_time,
        )
        records.append(_encode(record))
    return records


def publish_pending(
    conn: psycopg.Connection,
    producer: Producer,
    election_id: int,
    votes_topic: str,
    labels: dict[str, CandidateLabel] | None = None,
) -> int:
    """Publish every outbox row of the election, oldest first, each deleted once Kafka acknowledged all its votes;
    the number of votes published (a vote published twice is counted once by the stream)."""
    labels = labels if labels is not None else candidate_labels(conn, election_id)
    pending = conn.execute(read_sql("voting/pending_outbox.sql"), {"election_id": election_id}).fetchall()
    conn.commit()
    published = 0
    for batch_id, voter_ids, candidates, times, *facts in pending:
        times = [t.isoformat() for t in times]
        records = vote_records(election_id, labels, voter_ids, candidates, times, *facts)
        keys = (vote_key(election_id, voter_id) for voter_id in voter_ids)
        produce_all(producer, votes_topic, zip(keys, records, strict=True))
        with conn.transaction():
            conn.execute(read_sql("voting/delete_outbox.sql"), {"batch_id": batch_id})
        published += len(records)
    if published:
        log.warning(
            "election %d: re-published %s votes recorded but not acknowledged before", election_id, f"{published:,}"
        )
    return published
