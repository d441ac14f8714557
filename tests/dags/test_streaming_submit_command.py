"""election_streaming builds the expected spark-submit command from the election_spark connection.

No service needed: the command is built, not run (the integration tests run it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from election import config
from election.streaming import submit


def _command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, master: str) -> list[str]:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("ELECTION_SPARK_MASTER", master)
    # the connector's jars as `make jars` leaves them (this test needs none resolved)
    jars = tmp_path / "spark-kafka-connector"
    jars.mkdir()
    for name in ("spark-sql-kafka-0-10_2.13-4.2.0.jar", "kafka-clients-4.1.1.jar"):
        (jars / name).touch()
    monkeypatch.setenv("ELECTION_SPARK_JARS_DIR", str(jars))
    config.get_settings.cache_clear()
    settings = config.get_settings()
    for name, value in settings.airflow_connections().items():
        monkeypatch.setenv(name, value)
    try:
        task = DagBag(dag_folder=str(settings.home / "dags")).dags["election_streaming"].get_task("aggregate_votes")
        kafka = SimpleNamespace(extra_dejson={"bootstrap.servers": "broker-from-connection:9092"})
        task.application_args = task.render_template(task.application_args, {"conn": {"election_kafka": kafka}})
        return task._get_hook()._build_spark_submit_command(task.application)
    finally:
        config.get_settings.cache_clear()


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_local_stack_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    command = _command(monkeypatch, tmp_path, "local[*]")
    settings = config.get_settings()
    assert command[0] == "spark-submit"
    assert _option(command, "--master") == "local[*]"
    assert _option(command, "--name") == submit.APP_NAME
    assert _option(command, "--deploy-mode") == "client"
    assert _option(command, "--jars") == submit.jars(settings)
    assert "spark-sql-kafka-0-10_2.13" in _option(command, "--jars")
    assert "--packages" not in command, "nothing may be downloaded when the job starts"
    assert f"spark.pyspark.python={sys.executable}" in command
    # one argument each (a list, not a shell line): the JVM options reach the driver and the executors whole
    assert f"spark.driver.defaultJavaOptions={submit.JIT_OPTIONS}" in command
    assert f"spark.executor.defaultJavaOptions={submit.JIT_OPTIONS}" in command
    application = command.index(str(submit.application(settings)))
    args = command[application + 1 :]
    assert _option(args, "--bootstrap-servers") == "broker-from-connection:9092"
    assert "--topic-prefix" not in args, "the platform's own topics"
    assert _option(args, "--checkpoint-dir") == str(settings.checkpoint_dir)
    assert _option(args, "--trigger-interval") == settings.stream_trigger_interval


def test_cluster_master_from_the_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    command = _command(monkeypatch, tmp_path, "spark://spark-master:7077")
    assert _option(command, "--master") == "spark://spark-master:7077"
