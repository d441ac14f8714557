"""What the vote stream publishes, from the rows a micro-batch of `transforms.aggregate` updated.

A micro-batch updates at most a few hundred keys per election (candidates, parties, states, demographic cells,
minutes). They are collected to the driver and turned into messages here, in plain Python, then produced with
the reliable producer: a Spark job per batch for a few hundred rows would cost half a second of freshness
(measured) for nothing.

Every message carries `election_id` and its key starts with it. The seed project's field names are kept beside
ours, so its readers keep working: `party_affiliation` beside `party` on per-candidate totals, `count` beside
`total_votes` on per-location turnout.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

from election.kafka_io import DeliveryReport
from election.records import CandidateLabel

DIMENSIONS = ("candidate", "party", "state", "state_candidate", "demographic", "minute")


@dataclass(frozen=True)
class Message:
    topic: str
    key: str
    value: str


def iso(moment: dt.datetime) -> str:
    """UTC, millisecond precision, 'Z': the timestamps of every aggregated message."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def value_of(
    election_id: int,
    dimension: str,
    key: str,
    total: int,
    *,
    registered: Mapping[tuple[int, str], int],
    labels: Mapping[tuple[int, str], CandidateLabel],
    window_seconds: int,
    updated_at: str,
    expected_votes: Mapping[tuple[int, str], int] | None = None,
) -> dict[str, Any]:
    """The full current value of one aggregated key. A state's carries its expected vote (`election_states`: the
    seed's registered voters × expected turnout, then the exact count the vote simulation casts; None if unknown)."""
    if dimension == "candidate":
        label = labels.get((election_id, key))
        party = label and label.party
        return {
            "election_id": election_id,
            "candidate_id": key,
            "candidate_name": label and label.candidate_name,
            "party": party,
            "party_affiliation": party,
            "photo_url": label and label.photo_url,
            "total_votes": total,
            "updated_at": updated_at,
        }
    if dimension == "party":
        return {"election_id": election_id, "party": key, "total_votes": total, "updated_at": updated_at}
    if dimension == "state":
        voters = registered.get((election_id, key), 0)
        expected = (expected_votes or {}).get((election_id, key))
        return {
            "election_id": election_id,
            "state": key,
            "total_votes": total,
            "count": total,
            "registered_voters": voters,
            "turnout_pct": round(100.0 * total / voters, 2) if voters else None,
            "expected_votes": expected,
            "pct_expected_counted": round(100.0 * total / expected, 1) if expected else None,
            "updated_at": updated_at,
        }
    if dimension == "state_candidate":
        state, candidate_id = key.split(":", 1)
        label = labels.get((election_id, candidate_id))
        return {
            "election_id": election_id,
            "state": state,
            "candidate_id": candidate_id,
            "candidate_name": label and label.candidate_name,
            "party": label and label.party,
            "total_votes": total,
            "updated_at": updated_at,
        }
    if dimension == "demographic":
        gender, band = key.split("|", 1)
        return {
            "election_id": election_id,
            "gender": gender,
            "age_band": band,
            "total_votes": total,
            "updated_at": updated_at,
        }
    if dimension == "minute":
        candidate_id, start_text = key.split("|", 1)
        start = dt.datetime.fromisoformat(start_text.replace("Z", "+00:00"))
        return {
            "election_id": election_id,
            "window_start": iso(start),
            "window_end": iso(start + dt.timedelta(seconds=window_seconds)),
            "candidate_id": candidate_id,
            "votes": total,
            "updated_at": updated_at,
        }
    raise ValueError(f"unknown dimension {dimension!r}")


def messages(
    rows: Iterable[Mapping[str, Any]],
    *,
    registered: Mapping[tuple[int, str], int],
    labels: Mapping[tuple[int, str], CandidateLabel],
    topics: Mapping[str, str],
    window_seconds: int,
    updated_at: dt.datetime,
    expected_votes: Mapping[tuple[int, str], int] | None = None,
) -> list[Message]:
    """(election_id, dimension, key, total_votes) rows -> one message per key with its full current value, keyed
    `<election_id>:<key>`."""
    at = iso(updated_at)
    out = []
    for row in rows:
        election_id, dimension, key = int(row["election_id"]), row["dimension"], row["key"]
        if dimension not in topics:
            raise ValueError(f"unknown dimension {dimension!r}")
        value = value_of(
            election_id,
            dimension,
            key,
            int(row["total_votes"]),
            registered=registered,
            labels=labels,
            window_seconds=window_seconds,
            updated_at=at,
            expected_votes=expected_votes,
        )
        out.append(Message(topics[dimension], f"{election_id}:{key}", _json(value)))
    return out


def produce(producer: Producer, batch: list[Message], timeout: float = 60.0) -> DeliveryReport:
    """Produce a micro-batch's messages and wait until every one is acknowledged (raises otherwise: the batch
    then fails and is re-run from the checkpoint, re-sending the same values)."""
    report = DeliveryReport(topic=", ".join(sorted({m.topic for m in batch})) or "-")

    def on_delivery(err, msg) -> None:
        if err is None:
            report.delivered_at(msg.partition(), msg.offset())
        else:
            report.errors.append(str(err))

    for message in batch:
        while True:
            try:
                producer.produce(message.topic, key=message.key, value=message.value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let librdkafka send and report, then retry
                producer.poll(0.05)
        report.sent += 1
    producer.flush(timeout)
    return report.check()
