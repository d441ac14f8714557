"""How votes arrive: each state's exact share of the votes, and the reporting waves by time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from election.regions import time_zones
from election.seeding.staging import SeedRequest
from election.voting.caster import CastRequest
from election.voting.reporting import apportion, votes_per_state, waves

DAY = dt.date(2026, 11, 3)


def test_one_turnout_is_shared_exactly_and_each_state_is_within_one_vote_of_its_quota() -> None:
    registered = {"AA": 7, "BB": 7, "CC": 7, "DD": 1}
    shares = votes_per_state(registered, 0.5, {})
    assert sum(shares.values()) == round(22 * 0.5) == 11, "the national count is exact"
    assert all(abs(shares[s] - n * 0.5) < 1 for s, n in registered.items())
    assert apportion(0, registered) == dict.fromkeys(registered, 0)
    assert apportion(22, registered) == registered
    assert apportion(0, {"AA": 0}) == {"AA": 0}, "no voter: nobody to share with"


def test_apportion_refuses_more_than_there_is() -> None:
    with pytest.raises(ValueError, match="cannot share"):
        apportion(3, {"AA": 1, "BB": 1})


def test_seeded_turnouts_give_each_state_its_own_count() -> None:
    assert votes_per_state({"AA": 100, "BB": 10}, None, {"AA": 0.55, "BB": 0.8}) == {"AA": 55, "BB": 8}
    with pytest.raises(ValueError, match="no expected turnout for BB"):
        votes_per_state({"AA": 100, "BB": 10}, None, {"AA": 0.55, "BB": None})


def test_east_to_west_waves_follow_the_time_zones_on_election_day() -> None:
    zones = time_zones()
    order = waves(zones, zones, "east_to_west", DAY)
    assert order is not None
    assert ["NY" in order[0], "IL" in order[1], "CO" in order[2], "CA" in order[-3]] == [True] * 4
    assert order[-2:] == [("AK",), ("HI",)], "Alaska, then Hawaii: the last polls to close"
    assert "AZ" in order[2], "Arizona keeps standard time: with the Mountain states in November"
    assert sorted(s for wave in order for s in wave) == sorted(zones), "every state in exactly one wave"
    assert waves(zones, zones, "random", DAY) is None
    with pytest.raises(ValueError, match="reporting_order must be one of"):
        waves(zones, zones, "north_to_south", DAY)


def test_bad_turnout_bounds_and_reporting_orders_are_refused() -> None:
    with pytest.raises(ValueError, match="expected turnout bounds"):
        SeedRequest(num_voters=10, num_candidates=2, random_seed=1, election_date=DAY, turnout_min=0.8, turnout_max=0.5)
    with pytest.raises(ValueError, match="reporting_order must be one of"):
        CastRequest(election_id=1, reporting_order="north_to_south")
    assert CastRequest(election_id=1).turnout is None, "by default each state votes its seeded expected turnout"
