"""The messages the vote stream publishes for the rows a micro-batch updated: full current values, every one carrying
its election and keyed by it, the seed project's field names kept beside ours."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from election.records import CandidateLabel
from election.streaming.publish import messages

ALICE = "11111111-1111-4111-8111-111111111111"
TOPICS = {
    "candidate": "per_candidate",
    "party": "per_party",
    "state": "turnout",
    "state_candidate": "per_state_candidate",
    "demographic": "demographics",
    "minute": "over_time",
}
NOW = dt.datetime(2026, 11, 3, 15, 0, 0, 250_000, tzinfo=dt.UTC)
AT = "2026-11-03T15:00:00.250Z"


def publish(*rows: tuple[int, str, str, int]) -> list[tuple[str, str, dict]]:
    out = messages(
        [{"election_id": e, "dimension": d, "key": k, "total_votes": n} for e, d, k, n in rows],
        registered={(4, "CA"): 8, (4, "TX"): 5, (5, "CA"): 100},
        labels={(4, ALICE): CandidateLabel("Alice Adams", "Civic Renewal Party", "avatars/candidates/a.svg")},
        topics=TOPICS,
        window_seconds=60,
        updated_at=NOW,
        expected_votes={(4, "CA"): 4, (4, "WY"): 0},  # election 5's are not known
    )
    return [(m.topic, m.key, json.loads(m.value)) for m in out]


def test_candidate_totals_carry_the_candidate_labels_and_the_seed_projects_field() -> None:
    assert publish((4, "candidate", ALICE, 3)) == [
        (
            "per_candidate",
            f"4:{ALICE}",
            {
                "election_id": 4,
                "candidate_id": ALICE,
                "candidate_name": "Alice Adams",
                "party": "Civic Renewal Party",
                "party_affiliation": "Civic Renewal Party",
                "photo_url": "avatars/candidates/a.svg",
                "total_votes": 3,
                "updated_at": AT,
            },
        )
    ]


def test_turnout_and_expected_vote_divide_by_the_elections_figures_and_never_by_zero() -> None:
    assert publish((4, "state", "CA", 3), (4, "state", "WY", 1), (5, "state", "CA", 3)) == [
        (
            "turnout",
            "4:CA",
            {
                "election_id": 4,
                "state": "CA",
                "total_votes": 3,
                "count": 3,
                "registered_voters": 8,
                "turnout_pct": 37.5,
                "expected_votes": 4,
                "pct_expected_counted": 75.0,
                "updated_at": AT,
            },
        ),
        (
            "turnout",
            "4:WY",
            {
                "election_id": 4,
                "state": "WY",
                "total_votes": 1,
                "count": 1,
                "registered_voters": 0,
                "turnout_pct": None,
                "expected_votes": 0,
                "pct_expected_counted": None,
                "updated_at": AT,
            },
        ),
        (
            "turnout",
            "5:CA",
            {
                "election_id": 5,
                "state": "CA",
                "total_votes": 3,
                "count": 3,
                "registered_voters": 100,
                "turnout_pct": 3.0,
                "expected_votes": None,
                "pct_expected_counted": None,
                "updated_at": AT,
            },
        ),
    ]


def test_parties_states_by_candidate_demographics_and_minutes() -> None:
    assert publish(
        (4, "party", "Green Future", 7),
        (4, "state_candidate", f"TX:{ALICE}", 2),
        (4, "demographic", "female|25-34", 4),
        (4, "minute", f"{ALICE}|2026-11-03T14:00:00Z", 9),
    ) == [
        (
            "per_party",
            "4:Green Future",
            {"election_id": 4, "party": "Green Future", "total_votes": 7, "updated_at": AT},
        ),
        (
            "per_state_candidate",
            f"4:TX:{ALICE}",
            {
                "election_id": 4,
                "state": "TX",
                "candidate_id": ALICE,
                "candidate_name": "Alice Adams",
                "party": "Civic Renewal Party",
                "total_votes": 2,
                "updated_at": AT,
            },
        ),
        (
            "demographics",
            "4:female|25-34",
            {"election_id": 4, "gender": "female", "age_band": "25-34", "total_votes": 4, "updated_at": AT},
        ),
        (
            "over_time",
            f"4:{ALICE}|2026-11-03T14:00:00Z",
            {
                "election_id": 4,
                "window_start": "2026-11-03T14:00:00.000Z",
                "window_end": "2026-11-03T14:01:00.000Z",
                "candidate_id": ALICE,
                "votes": 9,
                "updated_at": AT,
            },
        ),
    ]


def test_an_unknown_dimension_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        publish((4, "shoe_size", "42", 1))
