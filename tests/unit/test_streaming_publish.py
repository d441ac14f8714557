"""The messages the streaming job publishes for the rows a micro-batch updated: full current values."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from election.streaming.publish import CandidateLabel, messages

ALICE = "11111111-1111-4111-8111-111111111111"
TOPICS = {
    "candidate": "per_candidate",
    "party": "per_party",
    "state": "turnout",
    "demographic": "demographics",
    "minute": "over_time",
    "dead_letter": "dead_letters",
}
NOW = dt.datetime(2026, 11, 3, 15, 0, 0, 250_000, tzinfo=dt.UTC)


def publish(*rows: tuple[str, str, int]) -> list[tuple[str, str, dict]]:
    out = messages(
        [{"dimension": d, "key": k, "total_votes": n} for d, k, n in rows],
        registered={"CA": 8, "TX": 5},
        candidates={ALICE: CandidateLabel("Alice Adams", "Civic Renewal Party", "avatars/candidates/a.svg")},
        topics=TOPICS,
        window_seconds=60,
        updated_at=NOW,
    )
    return [(m.topic, m.key, json.loads(m.value)) for m in out]


AT = "2026-11-03T15:00:00.250Z"


def test_candidate_totals_carry_the_candidate_labels() -> None:
    assert publish(("candidate", ALICE, 3)) == [
        (
            "per_candidate",
            ALICE,
            {
                "candidate_id": ALICE,
                "candidate_name": "Alice Adams",
                "party": "Civic Renewal Party",
                "photo_url": "avatars/candidates/a.svg",
                "total_votes": 3,
                "updated_at": AT,
            },
        )
    ]


def test_turnout_divides_by_the_registered_voters_and_never_by_zero() -> None:
    assert publish(("state", "CA", 3), ("state", "WY", 1)) == [
        (
            "turnout",
            "CA",
            {"state": "CA", "total_votes": 3, "registered_voters": 8, "turnout_pct": 37.5, "updated_at": AT},
        ),
        (
            "turnout",
            "WY",
            {"state": "WY", "total_votes": 1, "registered_voters": 0, "turnout_pct": None, "updated_at": AT},
        ),
    ]


def test_parties_demographics_and_minutes() -> None:
    assert publish(
        ("party", "Green Future", 2), ("demographic", "female|25-34", 4), ("minute", f"{ALICE}|2026-11-03T14:07:00Z", 9)
    ) == [
        ("per_party", "Green Future", {"party": "Green Future", "total_votes": 2, "updated_at": AT}),
        ("demographics", "female|25-34", {"gender": "female", "age_band": "25-34", "total_votes": 4, "updated_at": AT}),
        (
            "over_time",
            f"{ALICE}|2026-11-03T14:07:00Z",
            {
                "window_start": "2026-11-03T14:07:00.000Z",
                "window_end": "2026-11-03T14:08:00.000Z",
                "candidate_id": ALICE,
                "votes": 9,
                "updated_at": AT,
            },
        ),
    ]


def test_a_dead_letter_is_published_as_is_under_the_original_key() -> None:
    letter = json.dumps({"payload": "{not json", "record_key": "k7", "reason": "unparseable JSON"})
    assert publish(("dead_letter", letter, 1)) == [("dead_letters", "k7", json.loads(letter))]


def test_an_unknown_dimension_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        publish(("county", "x", 1))
