"""The records that travel on Kafka, defined once for their producers and consumers.

`VOTE_RECORD` is the contract between the vote caster (election_vote_simulation, which produces it to
`votes_topic`) and the streaming job (which parses it with a Spark schema derived from this definition). Every
record belongs to an election: it carries `election_id` and its key starts with it (`<election_id>:<voter_id>`).
The seed project's fields are all kept, so its readers keep working.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import msgspec

Kind = Literal["string", "int", "long", "timestamp"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool


VOTE_RECORD: tuple[Field, ...] = (
    Field("election_id", "long", True),
    Field("voter_id", "string", True),
    Field("candidate_id", "string", True),
    Field("candidate_name", "string", False),
    Field("party", "string", False),
    Field("photo_url", "string", False),
    Field("address_state", "string", True),
    Field("gender", "string", False),
    Field("age", "int", False),
    # ISO 8601 with a UTC offset, e.g. "2026-11-03T14:05:09.123456+00:00"
    Field("voting_time", "timestamp", True),
    Field("vote", "int", True),
)
VOTE_FIELDS = tuple(f.name for f in VOTE_RECORD)


@dataclass(frozen=True)
class CandidateLabel:
    """What every record about a candidate carries besides its id (votes, per-candidate totals)."""

    candidate_name: str
    party: str
    photo_url: str


class VoteRecord(msgspec.Struct, kw_only=True):
    """A vote on votes_topic. Its fields are VOTE_RECORD's (a test keeps the two in step)."""

    election_id: int
    voter_id: str
    candidate_id: str
    candidate_name: str
    party: str
    photo_url: str
    address_state: str
    gender: str
    age: int
    voting_time: str
    vote: int = 1


_encoder = msgspec.json.Encoder()


def age_on(day: dt.date, date_of_birth: dt.date) -> int:
    """Whole years between a date of birth and a day."""
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def vote_key(election_id: int, voter_id: str) -> str:
    """The key of a vote on votes_topic."""
    return f"{election_id}:{voter_id}"


def encode_vote(
    *,
    election_id: int,
    voter_id: str,
    candidate_id: str,
    candidate_name: str,
    party: str,
    photo_url: str,
    address_state: str,
    gender: str,
    age: int,
    voting_time: dt.datetime,
) -> bytes:
    """One vote as produced to `votes_topic` (JSON, UTF-8)."""
    if voting_time.tzinfo is None:
        raise ValueError("voting_time must be timezone-aware")
    return _encoder.encode(
        VoteRecord(
            election_id=election_id,
            voter_id=voter_id,
            candidate_id=candidate_id,
            candidate_name=candidate_name,
            party=party,
            photo_url=photo_url,
            address_state=address_state,
            gender=gender,
            age=age,
            voting_time=voting_time.isoformat(),
        )
    )
