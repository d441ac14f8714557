"""Pure DataFrame -> DataFrame transforms of the vote aggregation job. No I/O, no session: each one works the
same on a static frame (the unit tests) and on a stream (the job).

Flow:  Kafka rows -> parse_votes -> deduplicate -> aggregate   (then election.streaming.publish)

One read, one parse, one deduplication, one aggregation for every output: the totals per candidate, party,
state and demographic cell, the per-minute series and the dead letters.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from election.records import AGE_BANDS, UNKNOWN, VOTE_RECORD

_SPARK_TYPES = {"string": StringType(), "int": IntegerType(), "timestamp": StringType()}


def vote_schema() -> StructType:
    """The vote record (election.records.VOTE_RECORD) as a Spark schema. Timestamps are read as text and
    parsed afterwards, so a bad timestamp is told apart from a missing one."""
    return StructType([StructField(f.name, _SPARK_TYPES[f.kind]) for f in VOTE_RECORD])


def parse_votes(raw: DataFrame, candidate_ids: list[str]) -> DataFrame:
    """Kafka rows (key, value, topic, partition, offset, timestamp) -> one row per record with the vote's
    fields, `voting_time` as a timestamp, the source coordinates, and `error`: null for a valid vote, else
    the reason it is malformed (first failing rule).

    Text that is not a JSON object parses to nothing at all: "unparseable JSON". A field of the wrong type reads
    as missing (Spark's partial results): fatal for a required field, an unknown value for an optional one.
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
        # inline(array(...)): a generator the optimizer does not collapse into the filters and projections
        # below, so the JSON is parsed once per record rather than once per field that reads it.
        F.inline(F.array(vote)),
    )
    voting_time = F.try_to_timestamp(F.col("voting_time"))  # the text; null when absent or not a timestamp

    def blank(name: str) -> Column:
        return F.col(name).isNull() | (F.trim(F.col(name)) == "")

    nothing = F.lit(True)
    for field in VOTE_RECORD:
        nothing &= F.col(field.name).isNull()
    error = (
        F.when(F.col("payload").isNull() | nothing, F.lit("unparseable JSON"))
        .when(blank("voter_id"), F.lit("missing voter_id"))
        .when(blank("candidate_id"), F.lit("missing candidate_id"))
        .when(~F.col("candidate_id").isin(list(candidate_ids)), F.lit("unknown candidate_id"))
        .when(blank("voting_time"), F.lit("missing voting_time"))
        .when(voting_time.isNull(), F.lit("bad voting_time"))
        .when(blank("address_state"), F.lit("missing address_state"))
        .when(F.col("vote").isNull() | (F.col("vote") != 1), F.lit("vote must be 1"))
    )
    return parsed.withColumn("error", error).withColumn("voting_time", voting_time)


def dead_letter_value(detected_at: Column | None = None) -> Column:
    """The dead-letter message of a parsed record: the original payload and key, the reason, where it came from."""
    detected_at = F.current_timestamp() if detected_at is None else detected_at
    return F.to_json(
        F.struct(
            F.col("payload"),
            F.col("kafka_key").alias("record_key"),
            F.col("error").alias("reason"),
            F.col("source_topic"),
            F.col("source_partition"),
            F.col("source_offset"),
            F.col("source_timestamp"),
            detected_at.alias("detected_at"),
        )
    )


def deduplicate(parsed: DataFrame, detected_at: Column | None = None) -> DataFrame:
    """One row per voter, and one per malformed record.

    A valid vote is keyed by its voter_id: the first delivery wins and any re-delivery (producer retry, replay
    after a crash, re-publication) is dropped, so totals never double count. A malformed record is keyed by
    its source offset, so it becomes exactly one dead letter even when the source is replayed. On a stream
    this keeps one state row per voter (RocksDB), forever.
    """
    record_id = F.concat_ws(":", F.lit("dead-letter"), "source_topic", "source_partition", "source_offset")
    valid = F.col("error").isNull()
    # Only what `aggregate` needs crosses the shuffle: not the payload of every valid vote.
    return parsed.select(
        F.when(valid, F.col("voter_id")).otherwise(record_id).alias("dedup_key"),
        *COUNTED_FIELDS,
        F.when(~valid, dead_letter_value(detected_at)).alias("dead_letter"),
    ).dropDuplicates(["dedup_key"])


COUNTED_FIELDS = ("candidate_id", "party", "address_state", "gender", "age", "voting_time")


def age_band(age: Column) -> Column:
    band = F.when(age.isNull(), F.lit(UNKNOWN))
    for label, low, high in AGE_BANDS:
        band = band.when((age >= low) & (age <= high) if high is not None else (age >= low), F.lit(label))
    return band.otherwise(F.lit(UNKNOWN))


def window_start(event_time: Column, window_seconds: int) -> Column:
    """The start of the event-time window of `window_seconds` (tumbling, aligned on the epoch) holding a time."""
    micros = window_seconds * 1_000_000
    return F.timestamp_micros(F.floor(F.unix_micros(event_time) / micros) * micros)


def aggregate(deduplicated: DataFrame, window_seconds: int) -> DataFrame:
    """Everything the job publishes, as one streaming aggregation: `total_votes` per (dimension, key).

    Every vote counts once for its `candidate`, its `party`, its `state`, its `demographic` cell (gender x age
    band) and its `minute`: the event-time window of `window_seconds` of its voting_time, per candidate (key
    "candidate_id|window start"). Every malformed record is a `dead_letter` of its own (key: the message).

    The per-minute series is part of the same deduplicated aggregation, so it is exact and adds up to the
    totals; a vote arriving late still counts in the window it was cast in. Its state is one row per
    (window, candidate): about 17,000 rows for a day of 12 candidates, so no watermark is needed to bound it.
    """
    gender = F.coalesce(F.nullif(F.trim(F.col("gender")), F.lit("")), F.lit(UNKNOWN))
    minute = F.concat_ws(
        "|", F.col("candidate_id"), F.date_format(window_start(F.col("voting_time"), window_seconds), ISO_SECONDS)
    )

    def entry(dimension: str, key: Column) -> Column:
        return F.struct(F.lit(dimension).alias("dimension"), key.alias("key"))

    votes = F.array(
        entry("candidate", F.col("candidate_id")),
        entry("party", F.coalesce(F.col("party"), F.lit(UNKNOWN))),
        entry("state", F.col("address_state")),
        entry("demographic", F.concat_ws("|", gender, age_band(F.col("age")))),
        entry("minute", minute),
    )
    entries = F.when(F.col("dead_letter").isNull(), votes).otherwise(
        F.array(entry("dead_letter", F.col("dead_letter")))
    )
    return (
        deduplicated.select(F.inline(entries)).groupBy("dimension", "key").agg(F.count(F.lit(1)).alias("total_votes"))
    )


ISO_SECONDS = "yyyy-MM-dd'T'HH:mm:ssXXX"
