"""Election night in the streaming job's driver: the race desk, its calls published to `race_calls`, and the
expected vote the per-state messages carry.

Each micro-batch of the totals query hands its updated per-state-candidate totals to `counted`, which publishes
the calls they make before the batch is committed; the driver's poll (`poll`, every few seconds) reads each
counted election's status and its states' expected votes and, for a closed election or a state whose polls
closed, the votes PostgreSQL recorded there, which decide the states still too close to call once everything is
counted. The desk starts from what the topics hold (the per-state-candidate totals, the calls already made), so a
restarted job calls no state twice. The rule is `election.results.race_calls`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from confluent_kafka import Producer

from election.compacted import latest_values
from election.config import Database, Topics
from election.results.race_calls import RaceCall, RaceDesk
from election.sql import read_sql
from election.streaming import publish

log = logging.getLogger("election.streaming")


def electoral_votes(conn: psycopg.Connection) -> dict[str, int]:
    return {state: int(votes) for state, votes in conn.execute(read_sql("results/electoral_votes.sql")).fetchall()}


@dataclass
class ElectionNight:
    desk: RaceDesk
    producer: Producer
    topic: str
    database: Database
    elections: tuple[int, ...]
    expected_votes: dict[tuple[int, str], int] = field(default_factory=dict)  # (election, state) -> expected vote

    @classmethod
    def load(
        cls,
        database: Database,
        kafka_config: dict[str, object],
        topics: Topics,
        producer: Producer,
        registered: Mapping[tuple[int, str], int],
        elections: tuple[int, ...],
    ) -> ElectionNight:
        counted = set(elections)
        with psycopg.connect(database.conninfo(), connect_timeout=10) as conn:
            votes = electoral_votes(conn)
        totals = [
            (int(v["election_id"]), str(v["state"]), str(v["candidate_id"]), int(v["total_votes"]))
            for v in latest_values(kafka_config, topics.votes_per_state_candidate).values()
            if v.get("election_id") in counted
        ]
        calls = [
            RaceCall.from_message(v)
            for v in latest_values(kafka_config, topics.race_calls).values()
            if v.get("election_id") in counted
        ]
        night = cls(
            RaceDesk(registered, votes, totals=totals, calls=calls), producer, topics.race_calls, database, elections
        )
        night.poll()
        return night

    def counted(self, rows: Iterable[Mapping[str, Any]]) -> list[RaceCall]:
        """A micro-batch's updated rows (every dimension; only the per-state-candidate ones matter) -> its calls,
        published and acknowledged."""
        totals = []
        for row in rows:
            if row["dimension"] == "state_candidate":
                state, candidate_id = str(row["key"]).split(":", 1)
                totals.append((int(row["election_id"]), state, candidate_id, int(row["total_votes"])))
        return self._publish(self.desk.update(totals, dt.datetime.now(dt.UTC)) if totals else [])

    def poll(self) -> list[RaceCall]:
        """Each counted election's expected votes per state; the calls that closed elections and states whose polls
        closed make (a state's recorded votes are read once: after its close PostgreSQL records no more there)."""
        scope = {"only": list(self.elections)}
        now_closed: dict[int, set[str]] = {}
        with psycopg.connect(self.database.conninfo(), connect_timeout=10) as conn:
            statuses = dict(conn.execute(read_sql("streaming/election_night.sql"), scope).fetchall())
            expected = {}
            for e, state, votes, polls_closed in conn.execute(read_sql("streaming/election_states.sql"), scope):
                if votes is not None:
                    expected[(int(e), state)] = int(votes)
                if polls_closed and statuses.get(e) == "open":
                    now_closed.setdefault(int(e), set()).add(state)
            for e in list(now_closed):
                now_closed[e] -= self.desk.closed_states(e)
                if not now_closed[e]:
                    del now_closed[e]
            closed = [int(e) for e, status in statuses.items() if status == "closed"]
            recorded = self._recorded(conn, closed, None) if closed else {}
            in_states = {}
            if now_closed:
                states = sorted(set().union(*now_closed.values()))
                found = self._recorded(conn, sorted(now_closed), states)
                in_states = {e: {s: found.get(e, {}).get(s, 0) for s in now_closed[e]} for e in now_closed}
        self.expected_votes = expected
        now = dt.datetime.now(dt.UTC)
        calls = self.desk.polls_closed(in_states, now) if in_states else []
        return self._publish(calls + (self.desk.closed(recorded, now) if closed else []))

    @staticmethod
    def _recorded(
        conn: psycopg.Connection, elections: list[int], states: list[str] | None
    ) -> dict[int, dict[str, int]]:
        recorded: dict[int, dict[str, int]] = {e: {} for e in elections}
        scope = {"elections": elections, "states": states}
        for e, state, votes in conn.execute(read_sql("streaming/recorded_per_state.sql"), scope):
            recorded[int(e)][state] = int(votes)
        return recorded

    def _publish(self, calls: list[RaceCall]) -> list[RaceCall]:
        if calls:
            messages = [publish.Message(self.topic, call.key, json.dumps(call.message())) for call in calls]
            publish.produce(self.producer, messages)
            for call in calls:
                log.info(
                    "[call] election %d %s: %s (votes %s, margin %s, remaining %s)",
                    call.election_id,
                    call.state,
                    "tie" if call.tie else call.candidate_id,
                    f"{call.votes:,}",
                    f"{call.margin:,}",
                    f"{call.remaining:,}",
                )
        return calls
