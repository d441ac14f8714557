"""Seed generation: deterministic per seed, offline pictures, voters spread by the states' populations."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from election.avatars import is_avatar_url
from election.regions import population_weights, state_codes
from election.seeding.generate import (
    GENDERS,
    generate,
    generate_parties_and_candidates,
    generate_voters,
)
from election.seeding.pipeline import with_derived_columns
from election.seeding.staging import SeedRequest

ELECTION_DAY = dt.date(2026, 11, 3)


def test_same_seed_same_election() -> None:
    first, second = generate(2_000, 4, 11, ELECTION_DAY), generate(2_000, 4, 11, ELECTION_DAY)
    pd.testing.assert_frame_equal(first.voters, second.voters)
    pd.testing.assert_frame_equal(first.candidates, second.candidates)
    pd.testing.assert_frame_equal(first.parties, second.parties)


def test_another_seed_another_election() -> None:
    first, other = generate(2_000, 4, 11, ELECTION_DAY), generate(2_000, 4, 12, ELECTION_DAY)
    assert set(first.voters["voter_id"]).isdisjoint(other.voters["voter_id"])
    assert first.candidates["candidate_name"].tolist() != other.candidates["candidate_name"].tolist()


def test_voters_follow_the_population_weights() -> None:
    voters = generate_voters(200_000, 5, ELECTION_DAY)
    shares = voters["address_state"].value_counts(normalize=True)
    expected = population_weights()
    assert set(shares.index) == set(state_codes())
    # ~4 standard deviations of a binomial share at n=200,000
    tolerance = 4 * (expected * (1 - expected) / 200_000) ** 0.5
    assert ((shares.reindex(expected.index) - expected).abs() <= tolerance).all()
    assert shares["CA"] > shares["TX"] > shares["FL"] > shares["WY"]


def test_every_voter_is_an_adult_on_election_day_and_ids_are_unique() -> None:
    voters = with_derived_columns(generate_voters(50_000, 3, ELECTION_DAY), ELECTION_DAY)
    assert voters["age_on_election_day"].min() == 18
    assert voters["age_on_election_day"].max() <= 100
    assert voters["voter_id"].is_unique
    assert voters["registration_number"].is_unique
    assert set(voters["gender"]) == set(GENDERS)
    assert (
        voters["voter_id"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()
    )
    assert (voters["registered_age"] <= voters["age_on_election_day"] - 18).all()


def test_pictures_are_project_avatars_never_external_urls() -> None:
    frames = generate(1_000, 3, 1, ELECTION_DAY)
    assert frames.voters["picture"].map(is_avatar_url).all()
    assert frames.candidates["photo_url"].map(is_avatar_url).all()
    assert not frames.voters["picture"].str.contains("http").any()


def test_one_candidate_per_party() -> None:
    parties, candidates = generate_parties_and_candidates(12, 3)
    assert len(parties) == len(candidates) == 12
    assert candidates["party_id"].is_unique
    assert set(candidates["party_id"]) == set(parties["party_id"])


@pytest.mark.parametrize(("voters", "candidates"), [(0, 3), (5_000_001, 3), (10, 1), (10, 13)])
def test_requests_outside_the_bounds_are_refused(voters: int, candidates: int) -> None:
    with pytest.raises(ValueError, match="must be between"):
        SeedRequest(voters, candidates, 1, ELECTION_DAY)
