"""
# election_streaming

Runs the **vote aggregation** Spark Structured Streaming job (`spark_jobs/vote_aggregation.py`) with the
Spark provider's `SparkSubmitOperator` on the `election_spark` connection: `local[*]` in the local stack, a
`spark://` master in Docker Compose — the same job either way. The Kafka connector comes from `--jars`
(resolved at install time); nothing is downloaded when the job starts.

| Task | What it does |
| --- | --- |
| `wait_for_candidates` | waits until `election_seed` has loaded the candidates (votes for unknown candidates are dead letters) |
| `aggregate_votes` | the stream itself: **long-running**, the task runs as long as the stream does |

**What the job writes** (JSON, keyed, the full current value per key; compacted topics):
`aggregated_votes_per_candidate`, `aggregated_votes_per_party`, `aggregated_turnout_by_location`,
`aggregated_votes_by_demographics` (gender × age band), `aggregated_votes_over_time` (per candidate, in 1-minute
event-time windows of each vote's `voting_time`); malformed records go to `votes_dead_letter` with the reason
and source offset. Each vote counts once per voter (deduplication on `voter_id`, RocksDB state), in one
aggregation for every output, so the totals equal PostgreSQL and the per-minute series adds up to them.

**Watching it**: the `aggregate_votes` task log shows one `[progress]` line per micro-batch (input rows,
rows/s, batch duration, state rows). The Spark UI is on http://localhost:4040 while it runs.

**Stopping it**: mark the running `aggregate_votes` task *failed* (or clear it). Airflow kills spark-submit
and the driver with it. A restart resumes from the checkpoints (`ELECTION_CHECKPOINT_DIR`): no vote lost,
none counted twice. A crash is retried (from the checkpoint); only one run is ever active.
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.sdk import dag

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, START_DATE
from election.sql import SQL_DIR
from election.streaming import submit

settings = get_settings()


@dag(
    dag_id="election_streaming",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # one stream per checkpoint, ever
    default_args={**DEFAULT_ARGS, "retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    doc_md=__doc__,
    tags=["election", "streaming", "spark", "kafka"],
    template_searchpath=[str(SQL_DIR)],
)
def election_streaming() -> None:
    wait_for_candidates = SqlSensor(
        task_id="wait_for_candidates",
        conn_id=settings.postgres_conn_id,
        sql="streaming/candidates_loaded.sql",
        mode="poke",  # not reschedule: apache/airflow#71172 can fail a rescheduled sensor
        poke_interval=15,
        timeout=dt.timedelta(hours=1).total_seconds(),
        retries=0,
    )
    aggregate_votes = SparkSubmitOperator(
        task_id="aggregate_votes",
        conn_id=settings.spark_conn_id,
        application=str(submit.application(settings)),
        name=submit.APP_NAME,
        jars=submit.jars(settings),
        conf=submit.conf(settings),
        driver_memory=settings.spark_driver_memory,
        # The broker comes from the election_kafka connection (editable in the UI), resolved at run time.
        application_args=submit.arguments(
            settings, bootstrap_servers="{{ conn." + settings.kafka_conn_id + ".extra_dejson['bootstrap.servers'] }}"
        ),
        max_active_tis_per_dag=1,
    )
    wait_for_candidates >> aggregate_votes


election_streaming()
