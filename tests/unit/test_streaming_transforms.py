"""The vote stream's transforms on static frames (assertDataFrameEqual): parsing, the registry checks and their
reasons, each voter once per election, the totals and the per-minute series, dead letters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from election.records import encode_vote
from election.streaming import transforms as t

ALICE, BOB = "aaaaaaaa-1111-4111-8111-111111111111", "bbbbbbbb-2222-4222-8222-222222222222"
CAROL = "cccccccc-3333-4333-8333-333333333333"  # stands in election 2 only
PARTIES = {ALICE: "Civic Renewal Party", BOB: "Green Future", CAROL: "Liberty Union"}
T0 = dt.datetime(2026, 11, 3, 14, 0, 5, tzinfo=dt.UTC)


def voter(n: int) -> str:
    return f"abcdef00-0000-4000-8000-{n:012d}"


# The registry: election 1 (Alice, Bob) and election 2 (Carol, Alice); voters 1-9 in both, registered as below.
ROLL = [
    (election, voter(n), state, gender, age)
    for election in (1, 2)
    for n, state, gender, age in [
        (1, "CA", "female", 30),
        (2, "TX", "male", 70),
        (3, "CA", "female", 19),
        (4, "CA", "female", 33),
        (5, "NY", "nonbinary", 45),
    ]
]
CANDIDATES = [(1, ALICE, PARTIES[ALICE]), (1, BOB, PARTIES[BOB]), (2, CAROL, PARTIES[CAROL]), (2, ALICE, "Reform")]


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


@pytest.fixture(scope="module")
def registry(spark):
    return (
        spark.createDataFrame(ROLL, t.ROLL_SCHEMA),
        {(e, c): party for e, c, party in CANDIDATES},
        (1, 2),
    )


def vote(who: str, candidate: str = ALICE, *, election: int = 1, state: str | None = None, at=T0, **forged):
    """A vote as the caster produces it (the voter's registered state unless told), with fields forged."""
    registered = {(e, v): s for e, v, s, _, _ in ROLL}
    record = json.loads(
        encode_vote(
            election_id=election,
            voter_id=who,
            candidate_id=candidate,
            candidate_name="a name",
            party=dict(((e, c), p) for e, c, p in CANDIDATES).get((election, candidate), "Nobody"),
            photo_url="",
            address_state=state or registered.get((election, who), "CA"),
            gender="message gender",  # never counted: the registry's is
            age=99,
            voting_time=at,
        )
    )
    return json.dumps({k: v for k, v in {**record, **forged}.items() if v is not ...}).encode()


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


def checked(spark, registry, values):
    return t.check_votes(t.parse_votes(kafka_rows(spark, values)), *registry)


def totals(spark, registry, values):
    return t.aggregate(t.counted_votes(checked(spark, registry, values)), window_seconds=60)


def test_parse_reads_a_well_formed_vote_in_canonical_form(spark) -> None:
    row = t.parse_votes(kafka_rows(spark, [vote(voter(1), state=" ca ")])).collect()[0]
    assert row.malformed is None
    assert (row.election_id, row.voter_id, row.candidate_id, row.claimed_state) == (1, voter(1), ALICE, "CA")
    assert row.voting_time == dt.datetime(2026, 11, 3, 14, 0, 5)
    assert (row.source_topic, row.source_partition, row.source_offset) == ("votes_topic", 0, 0)


def test_an_election_id_sent_as_text_is_read_as_a_number(spark) -> None:
    row = t.parse_votes(kafka_rows(spark, [vote(voter(1), election="1")])).collect()[0]
    assert (row.malformed, row.election_id) == (None, 1)


# Each defect alone in a record, with what the stream must say of it. One frame holds them all: one Spark job checks
# every case, each case still compared on its own.
MALFORMED = [
    (b"{not json", "not a vote record (not JSON, or none of its fields)"),
    (None, "not a vote record (not JSON, or none of its fields)"),
    (b'["a", "list"]', "not a vote record (not JSON, or none of its fields)"),
    (b"{}", "not a vote record (not JSON, or none of its fields)"),
    (b'{"candidate_name": "only labels"}', "not a vote record (not JSON, or none of its fields)"),
    (vote(voter(1), election_id=...), "missing election_id"),
    (vote(voter(1), election_id="one"), "election_id is not a number"),
    (vote(voter(1), voter_id=...), "missing voter_id"),
    (vote(voter(1), voter_id="  "), "missing voter_id"),
    (vote(voter(1), voter_id=voter(1).upper()), "voter_id is not in canonical form (lowercase, no spaces)"),
    (vote(voter(1), voter_id=f" {voter(1)}"), "voter_id is not in canonical form (lowercase, no spaces)"),
    (vote(voter(1), candidate_id=...), "missing candidate_id"),
    (vote(voter(1), candidate_id=ALICE.upper()), "candidate_id is not in canonical form (lowercase, no spaces)"),
    (vote(voter(1), address_state=None), "missing address_state"),
    (vote(voter(1), voting_time=...), "missing voting_time"),
    (vote(voter(1), voting_time="yesterday at noon"), "bad voting_time"),
    (vote(voter(1), vote="one"), "vote must be 1"),
    (vote(voter(1), vote=2), "vote must be 1"),
]


def test_a_malformed_record_is_rejected_with_what_is_wrong(spark, registry) -> None:
    rows = checked(spark, registry, [payload for payload, _ in MALFORMED]).collect()
    found = {row.source_offset: (row.reason, row.detail) for row in rows}  # offset i: the i-th case
    expected = {i: ("malformed", detail) for i, (_, detail) in enumerate(MALFORMED)}
    assert found == expected, {MALFORMED[i][0]: found.get(i) for i in expected if found.get(i) != expected[i]}


# Well-formed records the registry does not hold, each with its reason and what the stream says of it.
UNREGISTERED = [
    (vote(voter(1), election=7), "unknown_election", "no election 7 is being counted"),
    (vote(voter(42)), "unknown_voter", "no such voter is registered in the election"),
    (vote(voter(1), state="TX"), "wrong_state", "claims TX, registered in CA"),
    (vote(voter(1), CAROL), "unknown_candidate", "no such candidate stands in the election"),
    (
        vote(voter(1), party="Green Future"),
        "wrong_party",
        "claims party Green Future, the candidate stands for Civic Renewal Party",
    ),
]


def test_the_registry_rejects_what_it_does_not_hold(spark, registry) -> None:
    rows = checked(spark, registry, [payload for payload, _, _ in UNREGISTERED]).collect()
    found = {row.source_offset: (row.reason, row.detail) for row in rows}  # offset i: the i-th case
    expected = {i: (reason, detail) for i, (_, reason, detail) in enumerate(UNREGISTERED)}
    assert found == expected, {UNREGISTERED[i][0]: found.get(i) for i in expected if found.get(i) != expected[i]}


def test_a_vote_is_counted_by_the_registrys_facts_not_the_messages(spark, registry) -> None:
    row = checked(spark, registry, [vote(voter(2), BOB)]).collect()[0]
    assert row.reason is None
    assert (row.registered_state, row.gender, row.age, row.party) == ("TX", "male", 70, PARTIES[BOB])


def test_each_voter_counts_once_per_election(spark, registry) -> None:
    votes = [
        vote(voter(1)),
        vote(voter(1), BOB),  # a second vote of the same voter: dropped
        vote(voter(1)),  # a re-delivery: dropped
        vote(voter(1), CAROL, election=2),  # the same person in another election: counts there
        vote(voter(2), BOB),
    ]
    per_candidate = totals(spark, registry, votes).where("dimension = 'candidate'")
    assertDataFrameEqual(
        per_candidate,
        [
            Row(election_id=1, dimension="candidate", key=ALICE, total_votes=1),
            Row(election_id=1, dimension="candidate", key=BOB, total_votes=1),
            Row(election_id=2, dimension="candidate", key=CAROL, total_votes=1),
        ],
    )


def test_counts_per_candidate_party_state_and_demographic_cell(spark, registry) -> None:
    votes = [vote(voter(1), ALICE), vote(voter(2), ALICE), vote(voter(3), BOB), vote(voter(4), ALICE)]
    expected = [
        Row(election_id=1, dimension="candidate", key=ALICE, total_votes=3),
        Row(election_id=1, dimension="candidate", key=BOB, total_votes=1),
        Row(election_id=1, dimension="party", key=PARTIES[ALICE], total_votes=3),
        Row(election_id=1, dimension="party", key=PARTIES[BOB], total_votes=1),
        Row(election_id=1, dimension="state", key="CA", total_votes=3),
        Row(election_id=1, dimension="state", key="TX", total_votes=1),
        Row(election_id=1, dimension="state_candidate", key=f"CA:{ALICE}", total_votes=2),
        Row(election_id=1, dimension="state_candidate", key=f"TX:{ALICE}", total_votes=1),
        Row(election_id=1, dimension="state_candidate", key=f"CA:{BOB}", total_votes=1),
        Row(election_id=1, dimension="demographic", key="female|25-34", total_votes=2),
        Row(election_id=1, dimension="demographic", key="male|65+", total_votes=1),
        Row(election_id=1, dimension="demographic", key="female|18-24", total_votes=1),
        Row(election_id=1, dimension="minute", key=f"{ALICE}|2026-11-03T14:00:00Z", total_votes=3),
        Row(election_id=1, dimension="minute", key=f"{BOB}|2026-11-03T14:00:00Z", total_votes=1),
    ]
    assertDataFrameEqual(totals(spark, registry, votes), expected)


def test_the_series_counts_each_voter_once_in_the_window_of_their_voting_time(spark, registry) -> None:
    votes = [
        vote(voter(1), ALICE, at=T0),
        vote(voter(2), ALICE, at=T0 + dt.timedelta(seconds=30)),
        vote(voter(3), BOB, at=T0 + dt.timedelta(seconds=70)),
        vote(voter(1), ALICE, at=T0),  # a re-delivery: counted once
        # cast at 14:00:50 but delivered after later votes: it still counts in the 14:00 window
        vote(voter(4), BOB, at=T0 + dt.timedelta(seconds=45)),
    ]
    series = totals(spark, registry, votes).where("dimension = 'minute'").drop("election_id")
    assertDataFrameEqual(
        series,
        [
            Row(dimension="minute", key=f"{ALICE}|2026-11-03T14:00:00Z", total_votes=2),
            Row(dimension="minute", key=f"{BOB}|2026-11-03T14:01:00Z", total_votes=1),
            Row(dimension="minute", key=f"{BOB}|2026-11-03T14:00:00Z", total_votes=1),
        ],
    )


def test_a_dead_letter_is_keyed_by_its_source_and_keeps_a_bounded_payload(spark, registry) -> None:
    huge = vote(voter(1), voter_id=voter(1).upper(), padding="x" * 5_000)
    rejected = t.rejected_votes(checked(spark, registry, [vote(voter(1)), b"{not json", huge]))
    letters = t.dead_letters(rejected.withColumn("payload", F.col("payload"))).collect()
    assert [row.key for row in letters] == ["votes_topic:0:1", "votes_topic:0:2"]
    first, second = (json.loads(row.value) for row in letters)
    assert {k: first[k] for k in ("election_id", "reason", "payload", "payload_truncated", "record_key")} == {
        "election_id": None,
        "reason": "malformed",
        "payload": "{not json",
        "payload_truncated": False,
        "record_key": "k1",
    }
    assert (first["source_topic"], first["source_partition"], first["source_offset"]) == ("votes_topic", 0, 1)
    assert len(second["payload"]) == t.DEAD_LETTER_PAYLOAD_CHARS
    assert second["payload_truncated"] is True
    assert second["election_id"] == 1


@pytest.mark.parametrize(
    ("seconds", "expected"), [(60, "14:00:00"), (300, "14:00:00"), (5, "14:00:05"), (3600, "14:00:00")]
)
def test_window_start_is_aligned_on_the_window_length(spark, seconds: int, expected: str) -> None:
    at = spark.createDataFrame([(dt.datetime(2026, 11, 3, 14, 0, 7),)], "t timestamp")
    start = at.select(t.window_start(F.col("t"), seconds).alias("s")).first().s
    assert start.strftime("%H:%M:%S") == expected


def test_a_stream_counts_exactly_across_micro_batches(spark, registry, tmp_path) -> None:
    """On a stream (update mode, real state store): re-deliveries in a later batch are not counted again."""
    source = tmp_path / "in"
    source.mkdir()
    schema = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
    stream = spark.readStream.schema(schema).parquet(str(source))
    aggregates = t.aggregate(t.counted_votes(t.check_votes(t.parse_votes(stream), *registry)), 60)
    query = aggregates.writeStream.format("memory").queryName("exact_test").outputMode("update").start()

    def arrive(name: str, values: list[bytes]) -> None:
        staging = tmp_path / name
        kafka_rows(spark, values).coalesce(1).write.parquet(str(staging))
        for part in staging.glob("*.parquet"):
            part.rename(source / f"{name}-{part.name}")
        query.processAllAvailable()

    try:
        arrive("batch1", [vote(voter(1)), vote(voter(2), BOB)])
        arrive("batch2", [vote(voter(1)), vote(voter(3)), vote(voter(2), BOB), vote(voter(9))])  # again, unknown
        latest = spark.sql(
            "SELECT key, max(total_votes) AS total FROM exact_test WHERE dimension = 'candidate' GROUP BY key"
        ).collect()
    finally:
        query.stop()
    assert {r.key: r.total for r in latest} == {ALICE: 2, BOB: 1}
