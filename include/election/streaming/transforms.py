"""Pure DataFrame -> DataFrame transforms of the vote stream. No I/O, no session: each one works the same on a static
frame (the unit tests) and on a stream (the job).

    Kafka rows -> parse_votes -> check_votes(registry) -+-> counted_votes -> aggregate        (totals)
                                                        +-> rejected_votes -> dead_letters   (votes_dead_letter)

Every election is counted by the same stream. A vote counts only if it is well formed, names an election, a voter
and a candidate the registry holds for that election, and the state it claims is the voter's registered state;
the voter's state, gender and age and the candidate's party come from the registry, never from the message, so a
producer cannot make the per-party totals disagree with the per-candidate ones. Each voter counts once per
election, however often their vote is delivered. Anything else is rejected with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

from election.domain import AGE_BANDS, UNKNOWN
from election.records import VOTE_RECORD

_SPARK_TYPES = {"string": StringType(), "int": IntegerType(), "long": StringType(), "timestamp": StringType()}

# Why a record does not count (the `reason` of its dead letter).
MALFORMED = "malformed"
UNKNOWN_ELECTION = "unknown_election"
UNKNOWN_VOTER = "unknown_voter"
WRONG_STATE = "wrong_state"
UNKNOWN_CANDIDATE = "unknown_candidate"
WRONG_PARTY = "wrong_party"
REASONS = (MALFORMED, UNKNOWN_ELECTION, UNKNOWN_VOTER, WRONG_STATE, UNKNOWN_CANDIDATE, WRONG_PARTY)

# The fields of a vote the stream reads (its other fields, kept for the seed project's readers, are not used:
# the registry says who the voter is and what party the candidate stands for). Fewer fields: a cheaper parse.
CHECKED_FIELDS = ("election_id", "voter_id", "candidate_id", "party", "address_state", "voting_time", "vote")

# A dead letter keeps at most this much of the record it sets aside: a flood of huge records cannot grow it.
DEAD_LETTER_PAYLOAD_CHARS = 1024

# The registry, as the job loads it (election.streaming.registry): who may vote where, and for whom.
ROLL_SCHEMA = StructType(
    [
        StructField("election_id", LongType(), False),
        StructField("voter_id", StringType(), False),
        StructField("registered_state", StringType(), False),
        StructField("gender", StringType(), False),
        StructField("age", IntegerType(), True),
    ]
)


def vote_schema() -> StructType:
    """The checked fields of the vote record (election.records.VOTE_RECORD) as a Spark schema. Ids, numbers and
    timestamps are read as text and converted afterwards, so a bad value is told apart from a missing one."""
    return StructType([StructField(f.name, _SPARK_TYPES[f.kind]) for f in VOTE_RECORD if f.name in CHECKED_FIELDS])


def _canonical(column: str) -> Column:
    """Ids compared in one form: trimmed, lowercase (a UUID's canonical text)."""
    return F.nullif(F.lower(F.trim(F.col(column))), F.lit(""))


def _not_canonical(column: str) -> Column:
    """Ids on votes_topic are canonical UUID text: lowercase, no spaces. Any other form is malformed, so a variant
    of a real voter's id (other case, padding) can never count for that voter, once or twice. (Text that is no id at
    all is simply no registered voter or candidate.)"""
    return F.col(column) != F.lower(F.trim(F.col(column)))


def parse_votes(raw: DataFrame) -> DataFrame:
    """Kafka rows (key, value, topic, partition, offset, timestamp) -> one row per record: the vote's fields in
    canonical form (election_id a long, ids, state uppercase, voting_time a timestamp), the party it claims, the
    source coordinates, and `malformed`: null for a well-formed vote, else what is wrong with it.

    Text that is not a JSON object parses to nothing at all. A field of the wrong type reads as missing.
    """
    payload = F.col("value").cast("string")
    vote = F.from_json(payload, vote_schema())
    parsed = raw.select(
        F.col("key").cast("string").alias("kafka_key"),
        payload.alias("payload"),
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        F.col("timestamp").alias("source_timestamp"),
        # inline(array(...)): a generator the optimizer does not collapse into the projections below, so the JSON
        # is parsed once per record rather than once per field that reads it.
        F.inline(F.array(vote)),
    )
    election_text = F.trim(F.col("election_id"))
    election_id = F.when(election_text.rlike(r"^[0-9]{1,18}$"), election_text.cast(LongType()))
    voting_time = F.try_to_timestamp(F.col("voting_time"))

    nothing = F.lit(True)
    for name in CHECKED_FIELDS:
        nothing &= F.col(name).isNull()
    malformed = (
        F.when(F.col("payload").isNull() | nothing, F.lit("not a vote record (not JSON, or none of its fields)"))
        .when(F.col("election_id").isNull(), F.lit("missing election_id"))
        .when(election_id.isNull(), F.lit("election_id is not a number"))
        .when(_canonical("voter_id").isNull(), F.lit("missing voter_id"))
        .when(_not_canonical("voter_id"), F.lit("voter_id is not in canonical form (lowercase, no spaces)"))
        .when(_canonical("candidate_id").isNull(), F.lit("missing candidate_id"))
        .when(_not_canonical("candidate_id"), F.lit("candidate_id is not in canonical form (lowercase, no spaces)"))
        .when(_canonical("address_state").isNull(), F.lit("missing address_state"))
        .when(F.col("voting_time").isNull(), F.lit("missing voting_time"))
        .when(voting_time.isNull(), F.lit("bad voting_time"))
        .when(F.col("vote").isNull() | (F.col("vote") != 1), F.lit("vote must be 1"))
    )
    return parsed.select(
        "kafka_key",
        "payload",
        "source_topic",
        "source_partition",
        "source_offset",
        "source_timestamp",
        election_id.alias("election_id"),
        _canonical("voter_id").alias("voter_id"),
        _canonical("candidate_id").alias("candidate_id"),
        F.upper(F.trim(F.col("address_state"))).alias("claimed_state"),
        F.nullif(F.trim(F.col("party")), F.lit("")).alias("claimed_party"),
        voting_time.alias("voting_time"),
        malformed.alias("malformed"),
    )


def check_votes(
    parsed: DataFrame, roll: DataFrame, candidates: Mapping[tuple[int, str], str], elections: Iterable[int]
) -> DataFrame:
    """Each parsed record checked against the registry of its election: `reason` null when it counts (else one of
    REASONS, with `detail`), and the facts it is counted by, all from the registry: the voter's `state`, `gender`
    and `age`, the candidate's `party`. A vote claiming another state than its voter's registered one, or another
    party than its candidate's, is rejected: the caster copies both from the registry, so it came from elsewhere.

    `roll` (ROLL_SCHEMA) holds every registered voter of the elections being counted: joined. `candidates`
    ((election_id, candidate_id) -> party) and `elections` (their ids) are a few dozen values: literals in the
    plan, looked up in each row, so a micro-batch runs no broadcast job for them.
    """
    registered = roll.select(
        "election_id", "voter_id", F.col("registered_state"), F.col("gender"), F.col("age"), F.lit(True).alias("_v")
    )
    counted = sorted({int(e) for e in elections})
    standing = [item for (e, c), party in sorted(candidates.items()) for item in (F.lit(f"{e}:{c}"), F.lit(party))]
    party = (
        F.try_element_at(F.create_map(*standing), F.concat_ws(":", F.col("election_id"), F.col("candidate_id")))
        if standing
        else F.lit(None).cast(StringType())
    )
    known = F.col("election_id").isin(counted) if counted else F.lit(False)
    checked = parsed.join(registered, ["election_id", "voter_id"], "left").select(
        "*",
        party.alias("party"),
        F.when(known, F.lit(True)).alias("_e"),
        F.when(party.isNotNull(), F.lit(True)).alias("_c"),
    )
    reason = (
        F.when(F.col("malformed").isNotNull(), F.lit(MALFORMED))
        .when(F.col("_e").isNull(), F.lit(UNKNOWN_ELECTION))
        .when(F.col("_v").isNull(), F.lit(UNKNOWN_VOTER))
        .when(F.col("claimed_state") != F.col("registered_state"), F.lit(WRONG_STATE))
        .when(F.col("_c").isNull(), F.lit(UNKNOWN_CANDIDATE))
        .when(F.col("claimed_party").isNotNull() & (F.col("claimed_party") != F.col("party")), F.lit(WRONG_PARTY))
    )
    detail = (
        F.when(F.col("malformed").isNotNull(), F.col("malformed"))
        .when(F.col("_e").isNull(), F.format_string("no election %s is being counted", F.col("election_id")))
        .when(F.col("_v").isNull(), F.lit("no such voter is registered in the election"))
        .when(
            F.col("claimed_state") != F.col("registered_state"),
            F.format_string("claims %s, registered in %s", F.col("claimed_state"), F.col("registered_state")),
        )
        .when(F.col("_c").isNull(), F.lit("no such candidate stands in the election"))
        .when(
            F.col("claimed_party").isNotNull() & (F.col("claimed_party") != F.col("party")),
            F.format_string("claims party %s, the candidate stands for %s", F.col("claimed_party"), F.col("party")),
        )
    )
    return (
        checked.withColumn("reason", reason)
        .withColumn("detail", detail)
        .drop("_e", "_v", "_c", "malformed", "claimed_party")
    )


def counted_votes(checked: DataFrame) -> DataFrame:
    """The votes that count, each voter once per election: the first delivery wins and any re-delivery (producer
    retry, replay after a crash, re-publication from the outbox) is dropped. On a stream this keeps one state row
    per voter and election (RocksDB). Only what `aggregate` needs goes on."""
    return (
        checked.filter(F.col("reason").isNull())
        .select(
            "election_id",
            "voter_id",
            "candidate_id",
            "party",
            F.col("registered_state").alias("state"),
            "gender",
            "age",
            "voting_time",
        )
        .dropDuplicates(["election_id", "voter_id"])
    )


def rejected_votes(checked: DataFrame) -> DataFrame:
    """The records that do not count, with their reason."""
    return checked.filter(F.col("reason").isNotNull())


def dead_letters(rejected: DataFrame) -> DataFrame:
    """Rejected records as `votes_dead_letter` messages: key `<topic>:<partition>:<offset>` (a replayed record
    overwrites its own dead letter on the compacted topic instead of adding one), value the reason, the election if
    any, the start of the original payload and where it came from. No state: a flood of bad records costs only
    their messages, each of bounded size."""
    value = F.to_json(
        F.struct(
            F.col("election_id"),
            F.col("reason"),
            F.col("detail"),
            F.substring(F.col("payload"), 1, DEAD_LETTER_PAYLOAD_CHARS).alias("payload"),
            (F.length(F.col("payload")) > DEAD_LETTER_PAYLOAD_CHARS).alias("payload_truncated"),
            F.col("kafka_key").alias("record_key"),
            F.col("source_topic"),
            F.col("source_partition"),
            F.col("source_offset"),
            F.col("source_timestamp"),
            # the micro-batch's time on a stream: a replayed batch writes the very same message
            F.current_timestamp().alias("detected_at"),
        ),
        {"ignoreNullFields": "false"},  # a record with no election still says so: "election_id": null
    )
    key = F.concat_ws(":", "source_topic", "source_partition", "source_offset")
    return rejected.select(key.alias("key"), value.alias("value"))


def age_band(age: Column) -> Column:
    band = F.when(age.isNull(), F.lit(UNKNOWN))
    for label, low, high in AGE_BANDS:
        band = band.when((age >= low) & (age <= high) if high is not None else (age >= low), F.lit(label))
    return band.otherwise(F.lit(UNKNOWN))


def window_start(event_time: Column, window_seconds: int) -> Column:
    """The start of the event-time window of `window_seconds` (tumbling, aligned on the epoch) holding a time."""
    micros = window_seconds * 1_000_000
    return F.timestamp_micros(F.floor(F.unix_micros(event_time) / micros) * micros)


ISO_SECONDS = "yyyy-MM-dd'T'HH:mm:ssXXX"


def aggregate(counted: DataFrame, window_seconds: int) -> DataFrame:
    """Everything the stream publishes, as one streaming aggregation: `total_votes` per (election_id, dimension,
    key).

    Every vote counts once for its `candidate`, its `party`, its `state`, its `state_candidate` (key
    "state:candidate_id"), its `demographic` cell (gender x age band) and its `minute`: the event-time window of
    `window_seconds` of its voting_time, per candidate (key "candidate_id|window start"). The per-minute series is
    part of the same deduplicated aggregation, so it is exact and adds up to the totals; a vote arriving late still
    counts in the window it was cast in. Its state is one row per (window, candidate): about 17,000 rows for a day of
    12 candidates, so no watermark is needed to bound it.
    """
    minute = F.concat_ws(
        "|", F.col("candidate_id"), F.date_format(window_start(F.col("voting_time"), window_seconds), ISO_SECONDS)
    )

    def entry(dimension: str, key: Column) -> Column:
        return F.struct(F.lit(dimension).alias("dimension"), key.alias("key"))

    entries = F.array(
        entry("candidate", F.col("candidate_id")),
        entry("party", F.col("party")),
        entry("state", F.col("state")),
        entry("state_candidate", F.concat_ws(":", F.col("state"), F.col("candidate_id"))),
        entry("demographic", F.concat_ws("|", F.col("gender"), age_band(F.col("age")))),
        entry("minute", minute),
    )
    return (
        counted.select("election_id", F.inline(entries))
        .groupBy("election_id", "dimension", "key")
        .agg(F.count(F.lit(1)).alias("total_votes"))
    )
