"""Integration tests talk to the real services of the local stack; `make test` starts them first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from election.config import Settings
from election.stack import airflow
from election.stack.kafka import Kafka
from election.stack.postgres import Postgres


@pytest.fixture(scope="session", autouse=True)
def stack_is_up(settings: Settings) -> None:
    """Fail fast, with the fix, when the services are not running (rather than one timeout per test)."""
    problems = []
    if Postgres(settings).pid() is None:
        problems.append("PostgreSQL")
    if Kafka(settings).service.process() is None:
        problems.append("Kafka")
    problems += [s.name for s in airflow.services(settings) if s.process() is None]
    if problems:
        pytest.fail(f"not running: {', '.join(problems)}. Start the stack with `make up` (or run `make test`).")


@pytest.fixture
def admin(settings: Settings) -> AdminClient:
    return AdminClient(settings.kafka_client_config())


@pytest.fixture
def scratch_topic(admin: AdminClient) -> Iterator[str]:
    """A fresh 3-partition topic, deleted after the test."""
    from confluent_kafka.admin import NewTopic

    name = f"test_{uuid.uuid4().hex[:12]}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(timeout=30)
    yield name
    admin.delete_topics([name])[name].result(timeout=30)


@pytest.fixture(scope="session")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}
    return bag


@pytest.fixture
def run_dag(dag_bag):
    """Run a DAG in-process against the stack's services (`dag.test()`); returns the finished DagRun."""

    def run(dag_id: str, **conf):
        return dag_bag.get_dag(dag_id).test(run_conf=conf or None)

    return run
