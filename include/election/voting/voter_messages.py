"""Reading voters_topic: the voter records election_seed published, checked before anyone votes.

A message that is not JSON, lacks a field the caster needs (election, voter, state), or names a voter that is not
a UUID is a bad message: skipped and counted, never a vote (and never a reason to stop the run).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

UUID_TEXT = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Voter(msgspec.Struct, frozen=True):
    """The fields of a voters_topic record the caster relies on (the others are ignored)."""

    election_id: int
    voter_id: Annotated[str, msgspec.Meta(pattern=UUID_TEXT)]
    address_state: Annotated[str, msgspec.Meta(min_length=1)]


_decoder = msgspec.json.Decoder(Voter)


class BadMessageError(ValueError):
    pass


def parse_voter(value: bytes | None) -> Voter:
    """A voters_topic message -> Voter (voter_id in PostgreSQL's canonical lowercase); BadMessageError, with a
    readable reason, for anything else."""
    if value is None:
        raise BadMessageError("empty message")
    try:
        voter = _decoder.decode(value)
    except msgspec.ValidationError as error:
        raise BadMessageError(f"missing or invalid field: {error}") from None
    except msgspec.DecodeError:
        raise BadMessageError("not JSON") from None
    if voter.voter_id.islower():
        return voter
    return Voter(voter.election_id, voter.voter_id.lower(), voter.address_state)
