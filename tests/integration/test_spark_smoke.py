"""After a clean install of the lock, spark-submit runs a streaming query with the Kafka connector."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

from confluent_kafka import Producer

from election.config import Settings
from localstack.jars import pom_property

SCRIPT = Path(__file__).parent / "spark_scripts" / "kafka_to_memory.py"


def test_pyspark_and_pyspark_client_are_the_same_version_as_the_connector(settings: Settings) -> None:
    pyspark = importlib.metadata.version("pyspark")
    assert importlib.metadata.version("pyspark-client") == pyspark
    assert pom_property(settings.home / "maven" / "spark-kafka-connector" / "pom.xml", "spark.version") == pyspark
    connector = [jar.name for jar in settings.spark_kafka_jars() if jar.name.startswith("spark-sql-kafka")]
    assert connector == [f"spark-sql-kafka-0-10_2.13-{pyspark}.jar"]


def test_spark_submit_reads_a_topic_with_the_kafka_source(settings: Settings, scratch_topic: str) -> None:
    producer = Producer(settings.kafka_client_config(**{"acks": "all"}))
    sent = {f"k{i}": f"v{i}" for i in range(25)}
    for key, value in sent.items():
        producer.produce(scratch_topic, key=key, value=value)
    assert producer.flush(30) == 0

    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
    }
    env.pop("SPARK_HOME", None)  # found by pyspark itself, as on a clean install
    result = subprocess.run(
        [
            str(venv_bin / "spark-submit"),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--jars",
            ",".join(str(jar) for jar in settings.spark_kafka_jars()),
            str(SCRIPT),
            settings.kafka_bootstrap,
            scratch_topic,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    rows = [json.loads(line[4:]) for line in result.stdout.splitlines() if line.startswith("ROW ")]
    assert {row["key"]: row["value"] for row in rows} == sent
    assert {row["partition"] for row in rows} == {0, 1, 2}
