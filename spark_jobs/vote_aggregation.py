"""The vote stream: Spark Structured Streaming from `votes_topic` to the aggregated topics and dead letters, for
every election at once.

Launched by the `election_streaming` DAG (SparkSubmitOperator) with the Kafka connector jars passed by `--jars`.
This file is only the entrypoint: the job is `election.streaming.job` (the driver loop, its two queries and the
registry they check votes against), its transforms `election.streaming.transforms`.
"""

from __future__ import annotations

from election.streaming.job import main

if __name__ == "__main__":
    main()
