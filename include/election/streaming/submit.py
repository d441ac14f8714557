"""How the vote aggregation job is submitted: the application, its jars, conf and arguments.

One definition for the `election_streaming` DAG (SparkSubmitOperator), the tests and the benchmarks, so the
job runs the same way everywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from election.config import KafkaPrincipal, Settings

APP_NAME = "election-vote-aggregation"

# HotSpot's optimising compiler (C2) only for the code that is really hot: ten times its default thresholds
# (Tier4*: invocations 5,000, compile 15,000, loop back-edges 40,000). With the defaults C2 compiled every lukewarm
# method (Spark's planner, code generated per query) and, on two cores, took a third of the JVM's CPU in the job's
# first minute; the per-record paths run millions of times and still reach C2 within seconds. Profile and
# measurements: README, Benchmarks > Where the time goes.
JIT_OPTIONS = (
    "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
    " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
)


def application(settings: Settings) -> Path:
    return settings.home / "spark_jobs" / "vote_aggregation.py"


def jars(settings: Settings) -> str:
    """The Kafka connector jars for --jars (empty until `make jars` resolved them; the job then fails with
    Spark's "Failed to find data source: kafka")."""
    return ",".join(str(jar) for jar in settings.spark_kafka_jars())


def conf(settings: Settings, *, ui: bool = True) -> dict[str, str]:
    local = settings.spark_master.startswith("local")
    # The executors run no Python (every transform is a Spark SQL expression): on a cluster their interpreter is the
    # workers' own unless ELECTION_SPARK_EXECUTOR_PYTHON names one; this machine's path means nothing there.
    executor_python = sys.executable if local else settings.spark_executor_python
    return {
        "spark.ui.enabled": str(ui).lower(),
        "spark.ui.showConsoleProgress": "false",
        **({"spark.pyspark.python": executor_python} if executor_python else {}),
        # The driver runs where spark-submit is called (client mode): with the Python Airflow runs with (the venv:
        # pyspark, psycopg, confluent-kafka).
        "spark.pyspark.driver.python": sys.executable,
        # The driver runs the tasks too in local mode; on a cluster the executors run them. The *default* options,
        # which Spark puts before the extra ones: a site's own extraJavaOptions (spark-defaults.conf) still apply.
        "spark.driver.defaultJavaOptions": JIT_OPTIONS,
        "spark.executor.defaultJavaOptions": JIT_OPTIONS,
        # On one machine the shuffle never leaves the page cache: compressing it only costs CPU (measured: the
        # 1M-vote drain ~15% faster). On a cluster it crosses the network, where compression pays.
        "spark.shuffle.compress": str(not local).lower(),
        # The totals query before the dead letters when both have work (fairscheduler.xml).
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": str(Path(__file__).with_name("fairscheduler.xml")),
    }


def arguments(settings: Settings, **overrides: str | int | bool | None) -> list[str]:
    """The job's command-line arguments (see spark_jobs/vote_aggregation.py); overrides by option name."""
    values: dict[str, str | int | bool | None] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "checkpoint_dir": str(settings.checkpoint_dir),
        "trigger_interval": settings.stream_trigger_interval,
        "shuffle_partitions": settings.stream_shuffle_partitions,
        "window": settings.stream_window,
    }
    values.update(overrides)
    args: list[str] = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value not in (None, False):
            args += [flag, str(value)]
    return args


def spark_submit_command(settings: Settings, master: str = "local[*]", *, ui: bool = False, **overrides) -> list[str]:
    """The full spark-submit command line, for running the job outside Airflow (tests, benchmarks)."""
    command = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master",
        master,
        "--name",
        APP_NAME,
        "--driver-memory",
        settings.spark_driver_memory,
        "--jars",
        jars(settings),
    ]
    for key, value in conf(settings, ui=ui).items():
        command += ["--conf", f"{key}={value}"]
    return [*command, str(application(settings)), *arguments(settings, **overrides)]


def spark_environment(stream_as: KafkaPrincipal | None = None) -> dict[str, str]:
    """Environment for spark-submit: the venv's bin first on PATH, so pyspark finds its own SPARK_HOME.
    `stream_as`: the Kafka principal the job authenticates as instead of the stream's (tests and benchmarks run
    it on topics of their own, which only the admin may use)."""
    venv_bin = str(Path(sys.executable).parent)
    environment = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYSPARK_PYTHON": sys.executable,
    }
    if stream_as is not None:
        environment["ELECTION_KAFKA_STREAM_USERNAME"] = stream_as.username or ""
        environment["ELECTION_KAFKA_STREAM_PASSWORD"] = stream_as.password or ""
    return environment
