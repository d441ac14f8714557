"""Race calls: the rule, a state's call and the national call, on plain Python values."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from election.regions import electoral_votes
from election.results.race_calls import NATIONAL, Decision, RaceCall, RaceDesk, decide, majority

NOW = dt.datetime(2026, 11, 3, 20, 14, 3, tzinfo=dt.UTC)


def test_the_leader_is_called_only_when_the_lead_beats_every_remaining_vote() -> None:
    assert decide({"a": 10, "b": 4}, remaining=5) == Decision("a", 10, 6)
    assert decide({"a": 10, "b": 4}, remaining=6) is None, "6 more for b would tie: not certain"
    assert decide({"a": 10, "b": 4, "c": 9}, remaining=0) == Decision("a", 10, 1)
    assert decide({"a": 3}, remaining=2) == Decision("a", 3, 3), "a candidate with no vote trails by the whole lead"


def test_a_complete_count_with_level_leaders_is_a_tie_and_no_vote_is_no_call() -> None:
    assert decide({"a": 7, "b": 7, "c": 1}, remaining=0) == Decision(None, 7, 0)
    assert decide({"a": 7, "b": 7}, remaining=1) is None
    assert decide({}, remaining=0) is None
    assert decide({"a": 0}, remaining=0) is None
    with pytest.raises(ValueError, match="negative"):
        decide({"a": 1}, remaining=-1)


def test_no_order_of_arrival_makes_a_wrong_call() -> None:
    """Every order in which 7 registered voters' votes can arrive: a call, once made, names the final winner."""
    final = ["a", "b", "a", "b", "a", "c", "a"]  # a wins 4-2-1
    for order in set(itertools.permutations(final)):
        desk = RaceDesk({(1, "XX"): len(final)}, {})
        totals: dict[str, int] = {}
        called = []
        for choice in order:
            totals[choice] = totals.get(choice, 0) + 1
            called += [c for c in desk.update([(1, "XX", k, v) for k, v in totals.items()], NOW) if c.state == "XX"]
        assert [c.candidate_id for c in called] == ["a"], order


def test_a_state_is_called_once_and_a_restarted_desk_remembers_it() -> None:
    desk = RaceDesk({(1, "WY"): 5, (1, "CA"): 100}, {"WY": 3, "CA": 54})
    first = desk.update([(1, "WY", "a", 3)], NOW)
    assert [(c.state, c.candidate_id, c.votes, c.margin, c.remaining, c.electoral_votes) for c in first] == [
        ("WY", "a", 3, 3, 2, 3)
    ]
    assert desk.update([(1, "WY", "a", 4), (1, "WY", "b", 1)], NOW) == [], "never called twice"
    restarted = RaceDesk({(1, "WY"): 5, (1, "CA"): 100}, {"WY": 3, "CA": 54}, totals=[(1, "WY", "a", 4)], calls=first)
    assert restarted.update([(1, "WY", "b", 1)], NOW) == []
    assert RaceCall.from_message(first[0].message()) == first[0], "the published message reads back as the call"


def test_a_closed_election_calls_what_its_complete_count_decides() -> None:
    desk = RaceDesk({(1, "AA"): 10, (1, "BB"): 10, (1, "CC"): 10}, {})
    desk.update([(1, "AA", "a", 3), (1, "AA", "b", 2), (1, "BB", "a", 2), (1, "BB", "b", 2), (1, "CC", "b", 1)], NOW)
    at_close = desk.closed({1: {"AA": 6, "BB": 4, "CC": 1}}, NOW)
    assert [(c.state, c.candidate_id, c.tie, c.remaining) for c in at_close] == [
        ("BB", None, True, 0),
        ("CC", "b", False, 0),
    ], "AA still has a vote to count (3-2): too close; BB is complete and level: a tie"
    made = desk.update([(1, "AA", "a", 4)], NOW)
    assert [(c.state, c.candidate_id, c.margin) for c in made] == [("AA", "a", 2), (NATIONAL, "a", 1)]


def test_the_national_call_comes_with_a_majority_of_electoral_votes() -> None:
    votes = {"X1": 200, "X2": 70, "X3": 268}
    assert majority(votes) == 270
    desk = RaceDesk({(1, state): 10 for state in votes}, votes)
    assert [c.state for c in desk.update([(1, "X3", "b", 10)], NOW)] == ["X3"], "268: short of 270"
    assert [c.state for c in desk.update([(1, "X2", "a", 10)], NOW)] == ["X2"]
    made = desk.update([(1, "X1", "a", 10)], NOW)
    assert [(c.state, c.candidate_id, c.votes, c.margin, c.remaining) for c in made] == [
        ("X1", "a", 10, 10, 0),
        (NATIONAL, "a", 270, 2, 0),
    ]


def test_a_map_without_electoral_votes_is_decided_on_the_popular_vote() -> None:
    desk = RaceDesk({(1, "AA"): 10, (1, "BB"): 10}, {})
    made = desk.update([(1, "AA", "a", 10), (1, "BB", "b", 4)], NOW)
    assert [(c.state, c.candidate_id) for c in made] == [("AA", "a")], "national: a leads 10-4 with 6 to come"
    made = desk.update([(1, "BB", "a", 1)], NOW)
    assert [(c.state, c.candidate_id, c.margin, c.remaining) for c in made] == [(NATIONAL, "a", 7, 5)]


def test_the_real_map_has_538_electoral_votes_and_270_win() -> None:
    votes = electoral_votes()
    assert (len(votes), sum(votes.values()), majority(votes)) == (51, 538, 270)
    assert (votes["CA"], votes["TX"], votes["DC"]) == (54, 40, 3)


def test_a_state_whose_polls_closed_is_called_on_the_votes_it_holds() -> None:
    """East to west: a state's polls close while the election is open; only what it recorded can still come in."""
    desk = RaceDesk({(1, "NY"): 100, (1, "CA"): 100}, {})
    assert desk.update([(1, "NY", "a", 40), (1, "NY", "b", 30)], NOW) == [], "30 registered voters left: too close"
    made = desk.polls_closed({1: {"NY": 72}}, NOW)
    assert [(c.state, c.candidate_id, c.margin, c.remaining) for c in made] == [("NY", "a", 10, 2)]
    assert desk.closed_states(1) == {"NY"}
    assert desk.update([(1, "NY", "b", 31)], NOW) == [], "called once: the desk never withdraws a call"
    made = desk.polls_closed({1: {"CA": 0}}, NOW)
    assert [(c.state, c.candidate_id, c.margin, c.remaining) for c in made] == [(NATIONAL, "a", 9, 1)], (
        "CA closed with no vote: nothing to call there, and a popular-vote lead of 9 beats NY's 1 vote left"
    )
