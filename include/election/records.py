"""The records that travel on Kafka, defined once for their producers and consumers.

`VOTE_RECORD` is the contract between the vote caster (election_vote_simulation, which produces it to
`votes_topic`) and the streaming job (which parses it with a Spark schema derived from this definition).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import msgspec

Kind = Literal["string", "int", "timestamp"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool


VOTE_RECORD: tuple[Field, ...] = (
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

# Age bands of the demographics aggregate: (label, lowest age, highest age or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)
UNKNOWN = "unknown"


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return UNKNOWN


class VoteRecord(msgspec.Struct, kw_only=True):
    """A vote on votes_topic. Its fields are VOTE_RECORD's (a test keeps the two in step)."""

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


def encode_vote(
    *,
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
