"""Vote aggregation: Spark Structured Streaming from `votes_topic` to the aggregated topics and dead letters.

Launched by the `election_streaming` DAG (SparkSubmitOperator) with the Kafka connector jars passed by
`--jars`. This file only wires source -> transforms -> sink; the transforms live in
`election.streaming.transforms`. One query, one checkpoint (--checkpoint-dir): each vote is read, parsed and
deduplicated by voter_id once, then counted in one aggregation whose updated rows go to

  aggregated_votes_per_candidate, aggregated_votes_per_party, aggregated_turnout_by_location,
  aggregated_votes_by_demographics, aggregated_votes_over_time, and votes_dead_letter (malformed records).

Restarting (even after kill -9) resumes from the checkpoint: no vote lost, none counted twice.
"""

from __future__ import annotations

import argparse
import datetime as dt

from election.config import get_settings
from election.kafka_io import reliable_producer
from election.streaming import publish, transforms
from election.streaming.runtime import (
    ProgressReporter,
    RegisteredVoters,
    build_session,
    election_candidates,
    kafka_source,
    window_seconds,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    s = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", default=s.kafka_bootstrap)
    parser.add_argument("--votes-topic", default=s.topics.votes)
    parser.add_argument("--candidates-topic-out", default=s.topics.votes_per_candidate)
    parser.add_argument("--parties-topic-out", default=s.topics.votes_per_party)
    parser.add_argument("--turnout-topic-out", default=s.topics.turnout_by_location)
    parser.add_argument("--demographics-topic-out", default=s.topics.votes_by_demographics)
    parser.add_argument("--over-time-topic-out", default=s.topics.votes_over_time)
    parser.add_argument("--dead-letter-topic", default=s.topics.votes_dead_letter)
    parser.add_argument("--heartbeat-topic", default=s.topics.stream_heartbeat)
    parser.add_argument("--checkpoint-dir", default=str(s.checkpoint_dir))
    parser.add_argument("--trigger-interval", default=s.stream_trigger_interval)
    parser.add_argument("--shuffle-partitions", type=int, default=s.stream_shuffle_partitions)
    parser.add_argument("--window", default=s.stream_window, help="event-time window of the series, e.g. '1 minute'")
    parser.add_argument("--max-offsets-per-trigger", type=int, default=None)
    parser.add_argument(
        "--available-now", action="store_true", help="process what is in the topic, then stop (bounded run)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = get_settings()
    window = window_seconds(args.window)
    spark = build_session("election-vote-aggregation", args.shuffle_partitions)
    producer = reliable_producer(settings.kafka_client_config(**{"bootstrap.servers": args.bootstrap_servers}))
    spark.streams.addListener(ProgressReporter(producer, args.heartbeat_topic))

    # The job only reads PostgreSQL: it uses the dashboard's read-only role.
    candidates = election_candidates(settings.dashboard_db)
    labels = {cid: publish.CandidateLabel(name, party, photo) for cid, name, party, photo in candidates}
    registered = RegisteredVoters(settings.dashboard_db)
    topics = {
        "candidate": args.candidates_topic_out,
        "party": args.parties_topic_out,
        "state": args.turnout_topic_out,
        "demographic": args.demographics_topic_out,
        "minute": args.over_time_topic_out,
        "dead_letter": args.dead_letter_topic,
    }

    def publish_batch(counts, batch_id: int) -> None:
        # Update mode: only the keys this micro-batch changed, each with its full current value. Re-sent after
        # a crash, a message repeats a value already there: harmless on a compacted topic (a repeated dead
        # letter carries the same source offset, so a reader can tell).
        rows = [row.asDict() for row in counts.collect()]
        batch = publish.messages(
            rows,
            registered=registered.counts(),
            candidates=labels,
            topics=topics,
            window_seconds=window,
            updated_at=dt.datetime.now(dt.UTC),
        )
        publish.produce(producer, batch)

    source = kafka_source(spark, args.bootstrap_servers, args.votes_topic, args.max_offsets_per_trigger)
    parsed = transforms.parse_votes(source, [candidate_id for candidate_id, *_ in candidates])
    query = (
        transforms.aggregate(transforms.deduplicate(parsed), window)
        .writeStream.queryName("vote_aggregation")
        .outputMode("update")
        .foreachBatch(publish_batch)
        .option("checkpointLocation", args.checkpoint_dir)
        .trigger(**({"availableNow": True} if args.available_now else {"processingTime": args.trigger_interval}))
        .start()
    )
    query.awaitTermination()  # a failure raises: the job exits non-zero and Airflow retries it
    producer.flush(10)
    spark.stop()


if __name__ == "__main__":
    main()
