"""Certifying an election: the stream's totals reconciled against PostgreSQL, then the result made final.

1. `close`: the election stops accepting votes (PostgreSQL refuses any later vote).
2. The outbox is flushed (election.voting.outbox) and the stream is awaited until it has counted every vote
   PostgreSQL holds for the election (`counted`).
3. `reconcile`: per candidate, per state and per party, the stream's totals (the compacted aggregated topics) and
   PostgreSQL's must be equal — checked by Great Expectations suites; any difference raises
   `ReconciliationError` with a readable report, and the election stays `closed`.
   The race calls the stream published (`race_calls`) are checked too: every state with votes is called, each
   for the winner of PostgreSQL's final count there (a tie as a tie), and the national call is the one PostgreSQL's
   count makes (a majority of electoral votes; the popular vote on a map without them).
4. `certify`: in one transaction, `certified_results` and `certified_race_calls` written and the status set to
   `certified`.
5. `result_message`: the final result, for the compacted `election_results` topic (key: the election's id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg

from election import elections
from election.compacted import latest_values
from election.config import Topics
from election.elections import Election
from election.results.race_calls import NATIONAL, Decision, RaceCall, decide, majority
from election.sql import read_sql

# What each dimension is compared on: the aggregated topic's key field, and PostgreSQL's query.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "candidate": ("candidate_id", "results/per_candidate.sql"),
    "state": ("state", "results/per_state.sql"),
    "party": ("party", "results/per_party.sql"),
}


class ReconciliationError(RuntimeError):
    """The stream's totals and PostgreSQL's differ: the message says where."""


@dataclass(frozen=True)
class Count:
    """How far the stream has got with an election: the votes it counted against those PostgreSQL holds."""

    streamed: int
    recorded: int

    @property
    def complete(self) -> bool:
        return self.streamed == self.recorded


def _topic(topics: Topics, dimension: str) -> str:
    return {
        "candidate": topics.votes_per_candidate,
        "state": topics.turnout_by_location,
        "party": topics.votes_per_party,
    }[dimension]


def streamed_totals(kafka_config: dict[str, object], topic: str, election_id: int, key_field: str) -> dict[str, int]:
    """The stream's current total per key of one election, from a compacted aggregated topic."""
    return {
        str(value[key_field]): int(value["total_votes"])
        for value in latest_values(kafka_config, topic).values()
        if value.get("election_id") == election_id
    }


def counted(conn: psycopg.Connection, kafka_config: dict[str, object], topics: Topics, election_id: int) -> Count:
    streamed = streamed_totals(kafka_config, topics.votes_per_candidate, election_id, "candidate_id")
    recorded = conn.execute(read_sql("results/votes_recorded.sql"), {"election_id": election_id}).fetchone()[0]
    conn.commit()
    return Count(sum(streamed.values()), int(recorded))


def comparisons(
    conn: psycopg.Connection, kafka_config: dict[str, object], topics: Topics, election_id: int
) -> dict[str, pd.DataFrame]:
    """Per dimension: one row per key with the stream's total and PostgreSQL's (a key the stream never saw: 0)."""
    frames = {}
    for dimension, (key_field, query) in DIMENSIONS.items():
        cursor = conn.execute(read_sql(query), {"election_id": election_id})
        postgres = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description or []])
        streamed = streamed_totals(kafka_config, _topic(topics, dimension), election_id, key_field)
        keys = sorted(set(postgres["key"]) | set(streamed))
        recorded = dict(zip(postgres["key"], postgres["postgres"].astype(int), strict=True))
        frames[dimension] = pd.DataFrame(
            {
                "key": keys,
                "stream": [streamed.get(key, 0) for key in keys],
                "postgres": [recorded.get(key, 0) for key in keys],
            }
        )
    conn.commit()
    return frames


def reconcile(frames: Mapping[str, pd.DataFrame]) -> list[str]:
    """Great Expectations on each comparison; the summaries, or ReconciliationError listing every difference."""
    from election.quality import suites
    from election.quality.validation import validate_frame

    reports = [validate_frame(suites.reconciliation_suite(d), frame, f"{d} totals") for d, frame in frames.items()]
    if all(report.success for report in reports):
        return [report.summary() for report in reports]
    lines = ["the stream's totals differ from PostgreSQL's; the election stays closed:"]
    for dimension, frame in frames.items():
        for row in frame[frame["stream"] != frame["postgres"]].itertuples():
            lines.append(
                f"  {dimension} {row.key}: stream {row.stream:,}, PostgreSQL {row.postgres:,} "
                f"({row.stream - row.postgres:+,})"
            )
    lines += [report.summary() for report in reports if not report.success]
    raise ReconciliationError("\n".join(lines))


def published_calls(kafka_config: dict[str, object], topic: str, election_id: int) -> dict[str, RaceCall]:
    """The race calls the stream published for an election, by state (and NATIONAL)."""
    return {
        str(value["state"]): RaceCall.from_message(value)
        for value in latest_values(kafka_config, topic).values()
        if value.get("election_id") == election_id
    }


def final_calls(conn: psycopg.Connection, election_id: int) -> dict[str, Decision]:
    """The calls PostgreSQL's complete count makes: per state with votes, and national (when there is a winner)."""
    per_state: dict[str, dict[str, int]] = {}
    for state, candidate_id, votes in conn.execute(
        read_sql("results/per_state_candidate.sql"), {"election_id": election_id}
    ).fetchall():
        per_state.setdefault(state, {})[candidate_id] = int(votes)
    electoral = {state: int(n) for state, n in conn.execute(read_sql("results/electoral_votes.sql")).fetchall()}
    conn.commit()
    calls = {state: decision for state, totals in per_state.items() if (decision := decide(totals, 0))}
    if electoral:
        won: dict[str, int] = {}
        for state, decision in calls.items():
            if decision.candidate_id is not None:
                won[decision.candidate_id] = won.get(decision.candidate_id, 0) + electoral.get(state, 0)
        leaders = sorted(((votes, candidate) for candidate, votes in won.items()), reverse=True)
        if leaders and leaders[0][0] >= majority(electoral):
            runner_up = leaders[1][0] if len(leaders) > 1 else 0
            calls[NATIONAL] = Decision(leaders[0][1], leaders[0][0], leaders[0][0] - runner_up)
    else:
        national: dict[str, int] = {}
        for totals in per_state.values():
            for candidate_id, votes in totals.items():
                national[candidate_id] = national.get(candidate_id, 0) + votes
        if (decision := decide(national, 0)) is not None:
            calls[NATIONAL] = decision
    return calls


def call_differences(published: Mapping[str, RaceCall], final: Mapping[str, Decision]) -> list[str]:
    """Where the published calls and PostgreSQL's final count disagree (a state uncalled counts too)."""
    lines = []
    for state in sorted(set(published) | set(final)):
        call, decision = published.get(state), final.get(state)
        if call is None and decision is not None:
            lines.append(f"  {state}: not called; PostgreSQL's count makes it {decision.candidate_id or 'a tie'}")
        elif call is not None and decision is None:
            lines.append(f"  {state}: called for {call.candidate_id or 'a tie'}, but PostgreSQL's count calls nothing")
        elif call is not None and decision is not None and call.candidate_id != decision.candidate_id:
            lines.append(
                f"  {state}: called for {call.candidate_id or 'a tie'}, PostgreSQL's count makes it "
                f"{decision.candidate_id or 'a tie'}"
            )
    return lines


def check_calls(conn: psycopg.Connection, kafka_config: dict[str, object], topic: str, election_id: int) -> str:
    """Every call the stream published equals PostgreSQL's final count; a summary, or ReconciliationError."""
    published, final = published_calls(kafka_config, topic, election_id), final_calls(conn, election_id)
    differences = call_differences(published, final)
    if differences:
        raise ReconciliationError("\n".join(["the race calls differ from PostgreSQL's count:", *differences]))
    national = published.get(NATIONAL)
    return (
        f"race calls: {len(published) - (national is not None)} states called as PostgreSQL's count decides; "
        f"national: {national.candidate_id if national else 'no majority'}"
    )


def certify(
    conn: psycopg.Connection, election_id: int, per_candidate: pd.DataFrame, calls: Mapping[str, RaceCall]
) -> bool:
    """Write the certified results and calls and mark the election certified, in one transaction. False when it
    already was (nothing written: certifying twice is a no-op)."""
    with conn.transaction():
        election = elections.require(conn, election_id)
        if election.is_certified:
            return False
        if not election.is_closed:
            raise RuntimeError(f"{election.describe()}: only a closed election can be certified")
        for row in per_candidate.itertuples():
            conn.execute(
                read_sql("results/insert_certified.sql"),
                {"election_id": election_id, "candidate_id": row.key, "votes": int(row.postgres)},
            )
        for call in calls.values():
            conn.execute(read_sql("results/insert_race_call.sql"), {**call.message(), "called_at": call.called_at})
        elections.mark_certified(conn, election_id)
    return True


def certified_results(conn: psycopg.Connection, election_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(read_sql("results/certified.sql"), {"election_id": election_id}).fetchall()


def result_message(election: Election, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The certified result as published to `election_results` (key: the election's id)."""
    total = sum(int(r["votes"]) for r in results)
    top = results[0]["votes"] if results else 0
    leaders = [r for r in results if r["votes"] == top and top > 0]
    certified_at = election.certified_at or dt.datetime.now(dt.UTC)
    return {
        "election_id": election.election_id,
        "name": election.name,
        "status": election.status,
        "certified_at": certified_at.astimezone(dt.UTC).isoformat(),
        "total_votes": total,
        "winner": None
        if len(leaders) != 1
        else {k: leaders[0][k] for k in ("candidate_id", "candidate_name", "party")},
        "tied": len(leaders) > 1,
        "results": [
            {
                "candidate_id": r["candidate_id"],
                "candidate_name": r["candidate_name"],
                "party": r["party"],
                "party_affiliation": r["party"],
                "votes": int(r["votes"]),
                "share_pct": round(100.0 * int(r["votes"]) / total, 2) if total else None,
            }
            for r in results
        ],
    }
