"""The lock installs one Spark: pyspark and pyspark-client (which write the same package) at the version of the Kafka
connector the jars resolved. (spark-submit running the stream with that connector, as on a clean install, is what
test_streaming_job.py does.)"""

from __future__ import annotations

import importlib.metadata

from election.config import Settings
from localstack.jars import pom_property


def test_pyspark_and_pyspark_client_are_the_same_version_as_the_connector(settings: Settings) -> None:
    pyspark = importlib.metadata.version("pyspark")
    assert importlib.metadata.version("pyspark-client") == pyspark
    assert pom_property(settings.home / "maven" / "spark-kafka-connector" / "pom.xml", "spark.version") == pyspark
    connector = [jar.name for jar in settings.spark_kafka_jars() if jar.name.startswith("spark-sql-kafka")]
    assert connector == [f"spark-sql-kafka-0-10_2.13-{pyspark}.jar"]
