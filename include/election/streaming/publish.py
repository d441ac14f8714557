"""What the vote aggregation job publishes, from the rows a micro-batch of `transforms.aggregate` updated.

A micro-batch updates at most a few hundred keys (candidates, parties, states, demographic cells, minutes,
new dead letters). They are collected to the driver and turned into messages here, in plain Python, then
produced with the reliable producer: a Spark job per batch for a few hundred rows would cost half a second
of freshness (measured) for nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

from election.kafka_io import DeliveryReport


@dataclass(frozen=True)
class Message:
    topic: str
    key: str
    value: str


@dataclass(frozen=True)
class CandidateLabel:
    candidate_name: str
    party: str
    photo_url: str


def iso(moment: dt.datetime) -> str:
    """UTC, millisecond precision, 'Z': the timestamps of every aggregated message."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def messages(
    rows: Iterable[Mapping[str, Any]],
    *,
    registered: Mapping[str, int],
    candidates: Mapping[str, CandidateLabel],
    topics: Mapping[str, str],
    window_seconds: int,
    updated_at: dt.datetime,
) -> list[Message]:
    """(dimension, key, total_votes) rows -> one message per key with its full current value."""
    at = iso(updated_at)
    out: list[Message] = []
    for row in rows:
        dimension, key, total = row["dimension"], row["key"], int(row["total_votes"])
        if dimension not in topics:
            raise ValueError(f"unknown dimension {dimension!r}")
        topic = topics[dimension]
        if dimension == "candidate":
            label = candidates.get(key)
            value = {
                "candidate_id": key,
                "candidate_name": label and label.candidate_name,
                "party": label and label.party,
                "photo_url": label and label.photo_url,
                "total_votes": total,
                "updated_at": at,
            }
        elif dimension == "party":
            value = {"party": key, "total_votes": total, "updated_at": at}
        elif dimension == "state":
            voters = registered.get(key, 0)
            turnout = round(100.0 * total / voters, 2) if voters else None
            value = {
                "state": key,
                "total_votes": total,
                "registered_voters": voters,
                "turnout_pct": turnout,
                "updated_at": at,
            }
        elif dimension == "demographic":
            gender, band = key.split("|", 1)
            value = {"gender": gender, "age_band": band, "total_votes": total, "updated_at": at}
        elif dimension == "minute":
            candidate_id, start_text = key.split("|", 1)
            start = dt.datetime.fromisoformat(start_text.replace("Z", "+00:00"))
            end = start + dt.timedelta(seconds=window_seconds)
            value = {
                "window_start": iso(start),
                "window_end": iso(end),
                "candidate_id": candidate_id,
                "votes": total,
                "updated_at": at,
            }
        else:  # dead_letter: the key is the message itself; it is published under the original record's key
            out.append(Message(topic, json.loads(key).get("record_key") or "", key))
            continue
        out.append(Message(topic, key, _json(value)))
    return out


def produce(producer: Producer, batch: list[Message], timeout: float = 60.0) -> DeliveryReport:
    """Produce a micro-batch's messages and wait until every one is acknowledged (raises otherwise: the batch
    then fails and is re-run from the checkpoint, re-sending the same values)."""
    report = DeliveryReport(topic=", ".join(sorted({m.topic for m in batch})) or "-")

    def on_delivery(err, _msg) -> None:
        if err is None:
            report.delivered += 1
        else:
            report.errors.append(str(err))

    for message in batch:
        producer.produce(message.topic, key=message.key, value=message.value, on_delivery=on_delivery)
        report.sent += 1
    producer.flush(timeout)
    return report.check()
