"""
# election_streaming

Runs the **vote stream** (`spark_jobs/vote_aggregation.py`) with the Spark provider's `SparkSubmitOperator` on the
`election_spark` connection: `local[*]` in the local stack, a `spark://` master in Docker Compose — the same job
either way. The Kafka connector comes from `--jars` (resolved at install time); nothing is downloaded when the
job starts. **One stream counts every election**: an election seeded while it runs is counted without
restarting it.

| Task | What it does |
| --- | --- |
| `aggregate_votes` | the stream itself: **long-running**, the task runs as long as the stream does |

**What the job does**, per election: checks every vote against the registry (a registered voter of the
election, in the state the vote claims, a candidate of the election), counts each voter once, and publishes the
full current value of every key it changed to the compacted topics `aggregated_votes_per_candidate`,
`aggregated_votes_per_party`, `aggregated_turnout_by_location` (with the expected vote),
`aggregated_votes_per_state_candidate`, `aggregated_votes_by_demographics` and `aggregated_votes_over_time` (per
candidate, in 1-minute event-time windows), keyed `<election_id>:…`. **Race calls**: a state is called for its
leader once the lead is larger than the votes that could still come in there (never wrong, never withdrawn), and
the election once a candidate's called states reach 270 electoral votes — published once to `race_calls`. Records
that do not count go to `votes_dead_letter` with their reason, keyed by their source offset. A heartbeat on
`election_stream_heartbeat` lists the elections it counts.

**Watching it**: the `aggregate_votes` task log shows one `[progress]` line per micro-batch (input rows,
rows/s, batch duration, state rows), a `[call]` line per race call, and a line whenever the set of counted
elections changes. The Spark UI is on
http://localhost:4040 while it runs.

**Kept running by Airflow**: the schedule is `@continuous` with one active run, so once the DAG is unpaused the
scheduler starts the stream by itself and starts it again whenever its run ends. A crash is retried twice (10 s
apart) from the checkpoints (`ELECTION_CHECKPOINT_DIR`): no vote lost, none counted twice; once the retries are
used the run fails and a new run starts at once. Every time the stream goes down, an `[alert]` line is logged at
ERROR in the task's log (`election.streaming.alerts`), and the dashboard's status line shows the stream as down
until its heartbeat is back. Started before `election_schema` ever ran, the stream waits for the schema. A
checkpoint written against other brokers (another profile's, a votes topic created again) is refused at the start,
with the setting to change in the task's log.

**Stopping it**: **pause** the DAG (no new run), then mark the running `aggregate_votes` task *failed* or
*success*: Airflow kills spark-submit and the driver with it. Unpause to start it again; it resumes from the
checkpoints.
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import dag

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, START_DATE
from election.streaming import alerts, submit

settings = get_settings()


@dag(
    dag_id="election_streaming",
    schedule="@continuous",  # a run ends (crashed after its retries, or stopped): the scheduler starts the next
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # one stream per checkpoint, ever
    default_args={
        **DEFAULT_ARGS,
        "retries": 2,
        "retry_delay": dt.timedelta(seconds=10),
        "on_retry_callback": alerts.stream_down,
        "on_failure_callback": alerts.stream_down,
    },
    doc_md=__doc__,
    tags=["election", "streaming", "spark", "kafka"],
)
def election_streaming() -> None:
    SparkSubmitOperator(
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


election_streaming()
