"""The streaming job's transforms on static frames (assertDataFrameEqual): parsing, dead letters,
deduplication, running totals and the per-minute series, output records."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from election.records import encode_vote
from election.streaming import transforms as t

ALICE, BOB = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
CANDIDATES = [ALICE, BOB]
T0 = dt.datetime(2026, 11, 3, 14, 0, 5, tzinfo=dt.UTC)


def fixed_time():
    """A constant `updated_at` / `detected_at` (needs the session: call inside a test)."""
    return F.lit("2026-11-03 15:00:00").cast("timestamp")


@pytest.fixture(scope="module")
def spark():
    session = (
        SparkSession.builder.master("local[1]")
        .appName("transform-tests")
        .config("spark.sql.shuffle.partitions", 1)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def vote(
    voter: str,
    candidate: str = ALICE,
    *,
    state: str = "CA",
    gender: str = "female",
    age: int = 30,
    at: dt.datetime = T0,
    party: str | None = None,
) -> bytes:
    name, default_party = (
        ("Alice Adams", "Civic Renewal Party") if candidate == ALICE else ("Bob Brown", "Green Future")
    )
    return encode_vote(
        voter_id=voter,
        candidate_id=candidate,
        candidate_name=name,
        party=party or default_party,
        photo_url=f"avatars/candidates/{candidate}.svg",
        address_state=state,
        gender=gender,
        age=age,
        voting_time=at,
    )


def kafka_rows(spark: SparkSession, values: list[bytes | None]):
    rows = [
        Row(
            key=f"k{i}".encode(),
            value=v,
            topic="votes_topic",
            partition=0,
            offset=i,
            timestamp=dt.datetime(2026, 11, 3, 14, 0, 0),
        )
        for i, v in enumerate(values)
    ]
    return spark.createDataFrame(
        rows, "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
    )


def patched(record: bytes, **changes) -> bytes:
    data = json.loads(record)
    for name, value in changes.items():
        if value is ...:
            data.pop(name)
        else:
            data[name] = value
    return json.dumps(data).encode()


def test_parse_accepts_a_well_formed_vote(spark) -> None:
    parsed = t.parse_votes(kafka_rows(spark, [vote("v1")]), CANDIDATES)
    row = parsed.collect()[0]
    assert row.error is None
    assert (row.voter_id, row.candidate_id, row.address_state, row.age, row.vote) == ("v1", ALICE, "CA", 30, 1)
    assert row.voting_time == dt.datetime(2026, 11, 3, 14, 0, 5)
    assert (row.source_topic, row.source_partition, row.source_offset) == ("votes_topic", 0, 0)


def test_a_wrongly_typed_optional_field_reads_as_unknown(spark) -> None:
    parsed = t.parse_votes(kafka_rows(spark, [patched(vote("v1"), age="thirty")]), CANDIDATES)
    row = parsed.collect()[0]
    assert row.error is None
    assert row.age is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "unparseable JSON"),
        (None, "unparseable JSON"),
        (b'["a", "list"]', "unparseable JSON"),
        (b"{}", "unparseable JSON"),
        (patched(vote("v1"), vote="one"), "vote must be 1"),
        (patched(vote("v1"), voter_id=...), "missing voter_id"),
        (patched(vote("v1"), voter_id="  "), "missing voter_id"),
        (patched(vote("v1"), candidate_id=...), "missing candidate_id"),
        (patched(vote("v1"), candidate_id="33333333-3333-4333-8333-333333333333"), "unknown candidate_id"),
        (patched(vote("v1"), voting_time=...), "missing voting_time"),
        (patched(vote("v1"), voting_time="yesterday at noon"), "bad voting_time"),
        (patched(vote("v1"), address_state=None), "missing address_state"),
        (patched(vote("v1"), vote=2), "vote must be 1"),
    ],
)
def test_parse_names_why_a_record_is_malformed(spark, payload: bytes | None, reason: str) -> None:
    parsed = t.parse_votes(kafka_rows(spark, [payload]), CANDIDATES)
    assert [r.error for r in parsed.collect()] == [reason]


def totals(spark, values: list[bytes | None]):
    parsed = t.parse_votes(kafka_rows(spark, values), CANDIDATES)
    return t.aggregate(t.deduplicate(parsed, detected_at=fixed_time()), window_seconds=60)


def test_a_malformed_record_becomes_one_dead_letter_with_payload_reason_and_offset(spark) -> None:
    aggregates = totals(spark, [vote("v1"), b"{not json", vote("v2")])
    expected_letter = {
        "payload": "{not json",
        "record_key": "k1",
        "reason": "unparseable JSON",
        "source_topic": "votes_topic",
        "source_partition": 0,
        "source_offset": 1,
        "source_timestamp": "2026-11-03T14:00:00.000Z",
        "detected_at": "2026-11-03T15:00:00.000Z",
    }
    assertDataFrameEqual(
        aggregates.where("dimension = 'dead_letter'"),
        [Row(dimension="dead_letter", key=json.dumps(expected_letter, separators=(",", ":")), total_votes=1)],
    )
    assert aggregates.where("dimension = 'candidate'").first().total_votes == 2


def test_deduplication_counts_a_voter_once(spark) -> None:
    aggregates = totals(spark, [vote("v1"), vote("v2", BOB), vote("v1"), vote("v1", BOB), vote("v2", BOB)])
    per_candidate = {r.key: r.total_votes for r in aggregates.where("dimension = 'candidate'").collect()}
    assert sum(per_candidate.values()) == 2


def test_a_replayed_malformed_record_is_one_dead_letter(spark) -> None:
    """The same source offset delivered twice (a replay after a crash) is one dead letter, not two."""
    raw = kafka_rows(spark, [b"{not json"])
    aggregates = t.aggregate(t.deduplicate(t.parse_votes(raw.union(raw), CANDIDATES), detected_at=fixed_time()), 60)
    assert [r.total_votes for r in aggregates.collect()] == [1]


def test_counts_per_candidate_party_state_and_demographic_cell(spark) -> None:
    votes = [
        vote("v1", ALICE, state="CA", gender="female", age=30),
        vote("v2", ALICE, state="TX", gender="male", age=70),
        vote("v3", BOB, state="CA", gender="female", age=19),
        vote("v4", ALICE, state="CA", gender="female", age=33),
    ]
    expected = [
        Row(dimension="candidate", key=ALICE, total_votes=3),
        Row(dimension="candidate", key=BOB, total_votes=1),
        Row(dimension="party", key="Civic Renewal Party", total_votes=3),
        Row(dimension="party", key="Green Future", total_votes=1),
        Row(dimension="state", key="CA", total_votes=3),
        Row(dimension="state", key="TX", total_votes=1),
        Row(dimension="demographic", key="female|25-34", total_votes=2),
        Row(dimension="demographic", key="male|65+", total_votes=1),
        Row(dimension="demographic", key="female|18-24", total_votes=1),
        Row(dimension="minute", key=f"{ALICE}|2026-11-03T14:00:00Z", total_votes=3),
        Row(dimension="minute", key=f"{BOB}|2026-11-03T14:00:00Z", total_votes=1),
    ]
    assertDataFrameEqual(totals(spark, votes), expected)


def test_the_series_counts_each_voter_once_in_the_window_of_their_voting_time(spark) -> None:
    votes = [
        vote("v1", ALICE, at=T0),
        vote("v2", ALICE, at=T0 + dt.timedelta(seconds=30)),
        vote("v3", BOB, at=T0 + dt.timedelta(seconds=70)),
        vote("v1", ALICE, at=T0),  # a re-delivery: counted once
        # cast at 14:00:50 but delivered after later votes: it still counts in the 14:00 window
        vote("v4", BOB, at=T0 + dt.timedelta(seconds=45)),
    ]
    series = totals(spark, votes).where("dimension = 'minute'")
    assertDataFrameEqual(
        series,
        [
            Row(dimension="minute", key=f"{ALICE}|2026-11-03T14:00:00Z", total_votes=2),
            Row(dimension="minute", key=f"{BOB}|2026-11-03T14:01:00Z", total_votes=1),
            Row(dimension="minute", key=f"{BOB}|2026-11-03T14:00:00Z", total_votes=1),
        ],
    )


@pytest.mark.parametrize(
    ("seconds", "expected"), [(60, "14:00:00"), (300, "14:00:00"), (5, "14:00:05"), (3600, "14:00:00")]
)
def test_window_start_is_aligned_on_the_window_length(spark, seconds: int, expected: str) -> None:
    at = spark.createDataFrame([(dt.datetime(2026, 11, 3, 14, 0, 7),)], "t timestamp")
    start = at.select(t.window_start(F.col("t"), seconds).alias("s")).first().s
    assert start.strftime("%H:%M:%S") == expected


def test_a_stream_counts_exactly_across_micro_batches(spark, tmp_path) -> None:
    """On a stream (update mode, real state store): re-deliveries in a later batch are not counted again."""
    source = tmp_path / "in"
    source.mkdir()
    schema = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
    stream = spark.readStream.schema(schema).parquet(str(source))
    aggregates = t.aggregate(t.deduplicate(t.parse_votes(stream, CANDIDATES)), 60)
    query = aggregates.writeStream.format("memory").queryName("exact_test").outputMode("update").start()

    def arrive(name: str, values: list[bytes]) -> None:
        staging = tmp_path / name
        kafka_rows(spark, values).coalesce(1).write.parquet(str(staging))
        for part in staging.glob("*.parquet"):
            part.rename(source / f"{name}-{part.name}")
        query.processAllAvailable()

    try:
        arrive("batch1", [vote("v1"), vote("v2", BOB)])
        arrive("batch2", [vote("v1"), vote("v3"), vote("v2", BOB)])  # v1 and v2 again
        latest = spark.sql(
            "SELECT key, max(total_votes) AS total FROM exact_test WHERE dimension = 'candidate' GROUP BY key"
        ).collect()
    finally:
        query.stop()
    assert {r.key: r.total for r in latest} == {ALICE: 2, BOB: 1}
