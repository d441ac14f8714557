"""The cluster profile's settings and topology, checked without starting it (tests/integration/cluster runs it)."""

from __future__ import annotations

import pytest

from election import config
from localstack import airflow, topology
from localstack.kafka import server_properties

PROFILE_VARIABLES = (
    "ELECTION_STATE_DIR",
    "ELECTION_KAFKA_NODES",
    "ELECTION_KAFKA_BOOTSTRAP",
    "ELECTION_KAFKA_REPLICATION_FACTOR",
    "ELECTION_KAFKA_MIN_INSYNC_REPLICAS",
    "ELECTION_SPARK_MASTER",
    "ELECTION_SPARK_WORKERS",
    "ELECTION_CELERY_WORKERS",
    "AIRFLOW__CORE__EXECUTOR",
)


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch):
    """Settings read afresh under a profile, with none of the values it chooses set otherwise."""
    for name in PROFILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def read(name: str) -> config.Settings:
        monkeypatch.setenv("ELECTION_STACK_PROFILE", name)
        config.get_settings.cache_clear()
        return config.get_settings()

    yield read
    config.get_settings.cache_clear()


def test_the_single_profile_is_the_default_and_light(profile) -> None:
    s = profile("single")
    assert s.state_dir == s.home / ".local"
    assert (s.kafka_nodes, s.kafka_bootstrap, s.kafka_replication_factor) == (1, "localhost:9092", 1)
    assert (s.spark_master, s.spark_workers, s.airflow_executor) == ("local[*]", 0, "LocalExecutor")
    assert [service.name for service in topology.services(s)][:2] == ["kafka", "airflow-api-server"]


def test_the_cluster_profile_chooses_three_brokers_spark_standalone_and_celery(profile) -> None:
    s = profile("cluster")
    assert s.state_dir == s.home / ".local" / "cluster", "its data apart from the single node's"
    assert s.spark_jars_dir.parent == s.home / ".local" / "jars", "the resolved jars are shared"
    assert s.kafka_bootstrap == "localhost:9092,localhost:9192,localhost:9292"
    assert (s.kafka_replication_factor, s.kafka_min_insync_replicas) == (3, 2)
    assert s.spark_master == "spark://127.0.0.1:7077"
    assert s.airflow_executor == "CeleryExecutor"
    names = [service.name for service in topology.services(s)]
    assert names[:6] == ["kafka-1", "kafka-2", "kafka-3", "redis", "spark-master", "spark-worker-1"]
    assert {"airflow-worker-1", "airflow-worker-2"} <= set(names)
    assert len({service.port for service in topology.services(s) if service.port}) == len(
        [service for service in topology.services(s) if service.port]
    ), "no two services of the profile on one port"


def test_a_setting_the_profile_chooses_can_still_be_set(profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELECTION_SPARK_WORKERS", "3")
    monkeypatch.setenv("ELECTION_KAFKA_MIN_INSYNC_REPLICAS", "3")
    s = profile("cluster")
    assert (s.spark_workers, s.kafka_min_insync_replicas) == (3, 3)


def test_an_unknown_profile_names_the_variable(profile) -> None:
    with pytest.raises(ValueError, match="ELECTION_STACK_PROFILE"):
        profile("kubernetes")


def test_each_broker_of_the_cluster_knows_the_quorum_and_replicates(profile) -> None:
    s = profile("cluster")
    props = dict(line.split("=", 1) for line in server_properties(s, s.state_dir, node=2).splitlines())
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@localhost:9093,2@localhost:9193,3@localhost:9293"
    assert props["listeners"] == "CLIENT://localhost:9192,CONTROLLER://localhost:9193"
    assert props["advertised.listeners"] == "CLIENT://localhost:9192"
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        assert props[key] == "3", key
    assert (props["min.insync.replicas"], props["transaction.state.log.min.isr"]) == ("2", "2")
    assert props["unclean.leader.election.enable"] == "false"


def test_airflow_on_the_cluster_queues_tasks_in_redis_with_its_password(profile, monkeypatch) -> None:
    monkeypatch.setenv("ELECTION_REDIS_PASSWORD", "p@ss/word")
    s = profile("cluster")
    env = airflow.airflow_environment(s)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:p%40ss%2Fword@127.0.0.1:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    workers = [service for service in airflow.services(s) if service.name.startswith("airflow-worker-")]
    assert [w.env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] for w in workers] == ["8795", "8796"]
