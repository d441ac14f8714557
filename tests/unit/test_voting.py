"""Who votes and for whom, reading voter messages, and the vote records: pure functions, no service."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from election.records import VOTE_FIELDS, CandidateLabel, VoteRecord, age_on
from election.voting.caster import CastRequest
from election.voting.outbox import vote_records
from election.voting.preferences import build_preferences, voter_hash
from election.voting.voter_messages import BadMessageError, parse_voter

CANDIDATES = ["c-a", "c-b", "c-c"]
STATES = ["CA", "TX", "NY", "WY"]
VOTER = "949dc669-5d12-48c1-b32f-ec42fc585bf6"


def test_a_voters_numbers_depend_only_on_the_seed_and_the_voter() -> None:
    assert voter_hash(7, VOTER) == voter_hash(7, VOTER)
    assert voter_hash(7, VOTER) != voter_hash(8, VOTER)
    key, draw = voter_hash(7, VOTER)
    assert len(key) == 32
    assert 0 <= draw < 1


def test_the_selection_key_is_the_sql_md5_of_seed_and_voter() -> None:
    import hashlib

    assert voter_hash(7, VOTER)[0] == hashlib.md5(f"7:{VOTER}".encode(), usedforsecurity=False).hexdigest()


def test_states_lean_differently_and_the_national_split_is_respected() -> None:
    prefs = build_preferences(CANDIDATES, STATES, random_seed=3, weights=[0.5, 0.3, 0.2], regional_variation=0.5)
    shares = {state: prefs.state_shares(state) for state in STATES}
    assert len({tuple(round(s, 3) for s in v) for v in shares.values()}) == len(STATES), "states must differ"
    assert all(abs(sum(v) - 1) < 1e-9 for v in shares.values())
    no_variation = build_preferences(CANDIDATES, STATES, 3, [0.5, 0.3, 0.2], regional_variation=0)
    assert no_variation.state_shares("TX") == pytest.approx([0.5, 0.3, 0.2])


def test_choices_follow_the_state_distribution() -> None:
    prefs = build_preferences(CANDIDATES, STATES, random_seed=3)
    rng = random.Random(1)
    picks = Counter(prefs.choose("CA", rng.random()) for _ in range(60_000))
    for candidate, share in zip(CANDIDATES, prefs.state_shares("CA"), strict=True):
        assert picks[candidate] / 60_000 == pytest.approx(share, abs=0.01)


def test_expected_shares_weight_states_by_their_voters() -> None:
    prefs = build_preferences(CANDIDATES, STATES, random_seed=3)
    expected = prefs.expected_shares({"CA": 3, "WY": 1})
    for i, candidate in enumerate(CANDIDATES):
        assert expected[candidate] == pytest.approx(
            0.75 * prefs.state_shares("CA")[i] + 0.25 * prefs.state_shares("WY")[i]
        )


@pytest.mark.parametrize(
    ("weights", "variation"), [([1, 2], 0.3), ([1, -1, 1], 0.3), ([0, 0, 0], 0.3), ([1, 1, 1], 3.0)]
)
def test_bad_preferences_are_refused(weights, variation) -> None:
    with pytest.raises(ValueError, match="must be"):
        build_preferences(CANDIDATES, STATES, 1, weights, variation)


@pytest.mark.parametrize(("turnout", "max_votes", "rate"), [(1.5, None, 0), (0.5, -1, 0), (0.5, None, -5)])
def test_bad_cast_requests_are_refused(turnout, max_votes, rate) -> None:
    with pytest.raises(ValueError, match="must be"):
        CastRequest(election_id=1, turnout=turnout, max_votes=max_votes, votes_per_second=rate)


def test_a_voter_message_gives_the_canonical_voter_id_and_state() -> None:
    voter = parse_voter(
        json.dumps(
            {"election_id": 3, "voter_id": VOTER.upper(), "address_state": "CA", "email": "x@example.org"}
        ).encode()
    )
    assert (voter.election_id, voter.voter_id, voter.address_state) == (3, VOTER, "CA")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"{not json", "not JSON"),
        (None, "empty message"),
        (b'{"election_id": 1, "address_state": "CA"}', "missing or invalid field"),
        (b'{"election_id": 1, "voter_id": "voter-7", "address_state": "CA"}', "missing or invalid field"),
        (json.dumps({"election_id": 1, "voter_id": VOTER}).encode(), "missing or invalid field"),
        (json.dumps({"election_id": 1, "voter_id": VOTER, "address_state": ""}).encode(), "missing or invalid field"),
        (json.dumps({"voter_id": VOTER, "address_state": "CA"}).encode(), "missing or invalid field"),
    ],
)
def test_a_bad_voter_message_is_refused_with_a_reason(message, reason) -> None:
    with pytest.raises(BadMessageError, match=reason):
        parse_voter(message)


def test_the_vote_record_has_exactly_the_contract_fields() -> None:
    assert tuple(VoteRecord.__struct_fields__) == VOTE_FIELDS


def test_vote_records_carry_labels_and_registry_facts() -> None:
    labels = {"c-a": CandidateLabel("Ann Lee", "Green Future", "avatars/candidates/c-a.svg")}
    [record] = vote_records(7, labels, [VOTER], ["c-a"], ["2026-11-03T14:00:00+00:00"], ["TX"], ["female"], [41])
    assert json.loads(record) == {
        "election_id": 7,
        "voter_id": VOTER,
        "candidate_id": "c-a",
        "candidate_name": "Ann Lee",
        "party": "Green Future",
        "photo_url": "avatars/candidates/c-a.svg",
        "address_state": "TX",
        "gender": "female",
        "age": 41,
        "voting_time": "2026-11-03T14:00:00+00:00",
        "vote": 1,
    }


def test_age_counts_whole_years() -> None:
    import datetime as dt

    assert age_on(dt.date(2026, 11, 3), dt.date(2008, 11, 3)) == 18
    assert age_on(dt.date(2026, 11, 3), dt.date(2008, 11, 4)) == 17
