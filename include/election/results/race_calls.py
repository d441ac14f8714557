"""Race calls that are never wrong: a state is called for its leader once no one else has a path left.

A state's **remaining** votes are those that could still be counted there: while its polls are open, its registered
voters who have not voted yet (registered − counted: each voter votes once, and only in the state of the roll); once
its polls closed (the state's own close, in the `east_to_west` reporting order, or the election's), the votes
PostgreSQL recorded there that the stream has not counted yet (0 when the count is complete): PostgreSQL refuses any
vote there after the close. The leader is called when its lead over the runner-up is **larger** than the remaining
votes: even if every one of them went to the runner-up, the leader would still be ahead. The stream counts only
votes PostgreSQL has already recorded, so the condition also holds on PostgreSQL's own votes at the moment of the
call (the audit `tests/integration/test_end_to_end.py` runs). A call is final: it is published once and never
withdrawn. A state whose count is complete with two leaders level is reported as a tie.

The **national call**: electoral votes (`election.regions`, 538 in all) go to the winner of each called state; a
candidate whose called electoral votes reach a majority (270) has won — called states never change, so neither
does that. A map without electoral votes is decided on the popular vote, with the same rule as a state.

Everything here is plain Python: the streaming job's driver keeps a `RaceDesk`, and certification re-checks the
calls with the same `decide`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NATIONAL = "national"  # the `state` of an election's national call (key `<election_id>:national`)


@dataclass(frozen=True)
class Decision:
    """What a set of totals allows: a winner (None: a tie), its votes and its lead over the runner-up."""

    candidate_id: str | None
    votes: int
    margin: int

    @property
    def tie(self) -> bool:
        return self.candidate_id is None


def decide(totals: Mapping[str, int], remaining: int) -> Decision | None:
    """The call these per-candidate totals allow with `remaining` votes still to come, or None: too close to call.

    A candidate missing from `totals` has no vote. With nothing remaining, the leader wins, and two or more level
    leaders are a tie; with no vote at all there is nothing to call."""
    if remaining < 0:
        raise ValueError(f"remaining votes cannot be negative, got {remaining}")
    ranked = sorted(((votes, candidate) for candidate, votes in totals.items() if votes > 0), reverse=True)
    if not ranked:
        return None
    top, leader = ranked[0]
    margin = top - (ranked[1][0] if len(ranked) > 1 else 0)
    if margin > remaining:
        return Decision(leader, top, margin)
    if remaining == 0 and margin == 0:
        return Decision(None, top, 0)
    return None


@dataclass(frozen=True)
class RaceCall:
    election_id: int
    state: str  # a state code, or NATIONAL
    candidate_id: str | None  # the winner; None for a tie
    votes: int  # the winner's votes (national: electoral votes when the map has them)
    margin: int  # over the runner-up
    remaining: int  # votes still to come when called (national: electoral votes not yet called)
    called_at: dt.datetime
    electoral_votes: int | None = None  # the state's (national: the winner's called total)

    @property
    def key(self) -> str:
        return f"{self.election_id}:{self.state}"

    @property
    def tie(self) -> bool:
        return self.candidate_id is None

    def message(self) -> dict[str, Any]:
        """The value published to `race_calls`."""
        return {
            "election_id": self.election_id,
            "state": self.state,
            "candidate_id": self.candidate_id,
            "tie": self.tie,
            "votes": self.votes,
            "margin": self.margin,
            "remaining": self.remaining,
            "electoral_votes": self.electoral_votes,
            "called_at": self.called_at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    @classmethod
    def from_message(cls, value: Mapping[str, Any]) -> RaceCall:
        return cls(
            election_id=int(value["election_id"]),
            state=str(value["state"]),
            candidate_id=value.get("candidate_id"),
            votes=int(value["votes"]),
            margin=int(value["margin"]),
            remaining=int(value["remaining"]),
            called_at=dt.datetime.fromisoformat(str(value["called_at"]).replace("Z", "+00:00")),
            electoral_votes=value.get("electoral_votes"),
        )


def majority(electoral_votes: Mapping[str, int]) -> int:
    """Electoral votes needed to win: more than half of all (270 of 538)."""
    return sum(electoral_votes.values()) // 2 + 1


@dataclass
class _Election:
    registered: dict[str, int]  # per state
    closed_states: dict[str, int] = field(default_factory=dict)  # votes recorded in states whose polls closed
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # state -> candidate -> votes
    calls: dict[str, RaceCall] = field(default_factory=dict)  # state (or NATIONAL) -> its call

    def remaining(self, state: str) -> int:
        counted = sum(self.totals.get(state, {}).values())
        if state in self.closed_states:
            return max(self.closed_states[state] - counted, 0)
        return max(self.registered.get(state, 0) - counted, 0)


class RaceDesk:
    """The streaming job's race calls: fed each micro-batch's per-state-candidate totals (full current values)
    and, for a closed election, the votes PostgreSQL recorded per state; returns each new call once.

    Started from what the topics already hold (`totals`, `calls`), so a restarted job neither forgets a state's
    candidates nor calls a state twice. Thread-safe: the micro-batches and the driver's poll both feed it."""

    def __init__(
        self,
        registered: Mapping[tuple[int, str], int],
        electoral_votes: Mapping[str, int],
        *,
        totals: Iterable[tuple[int, str, str, int]] = (),
        calls: Iterable[RaceCall] = (),
    ) -> None:
        self._lock = threading.Lock()
        self.electoral_votes = {state: int(ev) for state, ev in electoral_votes.items() if ev}
        self._elections: dict[int, _Election] = {}
        for (election_id, state), voters in registered.items():
            self._elections.setdefault(election_id, _Election({})).registered[state] = int(voters)
        self._apply(totals)
        for call in calls:
            if call.election_id in self._elections:
                self._elections[call.election_id].calls[call.state] = call

    def _apply(self, rows: Iterable[tuple[int, str, str, int]]) -> set[tuple[int, str]]:
        touched = set()
        for election_id, state, candidate_id, votes in rows:
            election = self._elections.get(election_id)
            if election is None:
                continue
            per_candidate = election.totals.setdefault(state, {})
            # a replayed batch may carry a value the topic already had: totals only grow
            per_candidate[candidate_id] = max(per_candidate.get(candidate_id, 0), int(votes))
            touched.add((election_id, state))
        return touched

    def counted(self, election_id: int, state: str) -> dict[str, int]:
        with self._lock:
            return dict(self._elections[election_id].totals.get(state, {}))

    def calls(self, election_id: int) -> dict[str, RaceCall]:
        with self._lock:
            return dict(self._elections[election_id].calls)

    def closed_states(self, election_id: int) -> set[str]:
        """The states whose polls the desk knows closed (their recorded votes are final)."""
        with self._lock:
            election = self._elections.get(election_id)
            return set(election.closed_states) if election is not None else set()

    def update(self, rows: Iterable[tuple[int, str, str, int]], now: dt.datetime) -> list[RaceCall]:
        """(election_id, state, candidate_id, total_votes) rows of a micro-batch -> the calls they make."""
        with self._lock:
            touched = self._apply(rows)
            return self._call({election_id for election_id, _ in touched}, touched, now)

    def closed(self, recorded: Mapping[int, Mapping[str, int]], now: dt.datetime) -> list[RaceCall]:
        """Closed elections with the votes PostgreSQL recorded per state (a state missing: none) -> the calls their
        close makes. An election's close is every one of its states' polls closing."""
        every_state = {
            election_id: {state: per_state.get(state, 0) for state in self._elections[election_id].registered}
            for election_id, per_state in recorded.items()
            if election_id in self._elections  # registered states are fixed at start: read without the lock
        }
        return self.polls_closed(every_state, now)

    def polls_closed(self, recorded: Mapping[int, Mapping[str, int]], now: dt.datetime) -> list[RaceCall]:
        """States whose polls closed in an open election, with the votes PostgreSQL recorded in each (final: it
        records no more there) -> the calls that makes."""
        with self._lock:
            touched = set()
            for election_id, per_state in recorded.items():
                election = self._elections.get(election_id)
                if election is None:
                    continue
                for state, votes in per_state.items():
                    election.closed_states[state] = int(votes)
                    touched.add((election_id, state))
            return self._call({election_id for election_id, _ in touched}, touched, now)

    def _call(self, election_ids: set[int], touched: set[tuple[int, str]], now: dt.datetime) -> list[RaceCall]:
        made = []
        for election_id, state in sorted(touched):
            election = self._elections[election_id]
            if state in election.calls:
                continue
            remaining = election.remaining(state)
            decision = decide(election.totals.get(state, {}), remaining)
            if decision is None:
                continue
            call = RaceCall(
                election_id,
                state,
                decision.candidate_id,
                decision.votes,
                decision.margin,
                remaining,
                now,
                self.electoral_votes.get(state),
            )
            election.calls[state] = call
            made.append(call)
        for election_id in sorted(election_ids):
            national = self._national(election_id, now)
            if national is not None:
                self._elections[election_id].calls[NATIONAL] = national
                made.append(national)
        return made

    def _national(self, election_id: int, now: dt.datetime) -> RaceCall | None:
        election = self._elections[election_id]
        if NATIONAL in election.calls:
            return None
        if not self.electoral_votes:  # popular vote only
            totals: dict[str, int] = {}
            for per_candidate in election.totals.values():
                for candidate_id, votes in per_candidate.items():
                    totals[candidate_id] = totals.get(candidate_id, 0) + votes
            remaining = sum(election.remaining(state) for state in election.registered)
            decision = decide(totals, remaining)
            if decision is None:
                return None
            return RaceCall(
                election_id, NATIONAL, decision.candidate_id, decision.votes, decision.margin, remaining, now
            )
        won: dict[str, int] = {}
        for state, call in election.calls.items():
            if state != NATIONAL and call.candidate_id is not None:
                won[call.candidate_id] = won.get(call.candidate_id, 0) + self.electoral_votes.get(state, 0)
        needed = majority(self.electoral_votes)
        ranked = sorted(((ev, candidate) for candidate, ev in won.items()), reverse=True)
        if not ranked or ranked[0][0] < needed:
            return None
        top, winner = ranked[0]
        called = {state for state in election.calls if state != NATIONAL}
        uncalled = sum(ev for state, ev in self.electoral_votes.items() if state not in called)
        runner_up = ranked[1][0] if len(ranked) > 1 else 0
        return RaceCall(election_id, NATIONAL, winner, top, top - runner_up, uncalled, now, top)
