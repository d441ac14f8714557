"""`make up` is harmless when everything runs, and `make down && make up` keeps the data."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from election.config import Settings
from localstack import airflow
from localstack.kafka import Kafka
from localstack.postgres import Postgres


def _stack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localstack", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _pids(settings: Settings) -> dict[str, int | None]:
    pids = {"postgres": Postgres(settings).pid(), "kafka": _pid(Kafka(settings).service.process())}
    pids.update({s.name: _pid(s.process()) for s in airflow.services(settings)})
    return pids


def _pid(proc) -> int | None:
    return proc.pid if proc else None


@pytest.mark.platform  # `make up` restarts a service that stays unhealthy: never beside the platform lane's faults
def test_up_twice_changes_nothing(settings: Settings) -> None:
    before = _pids(settings)
    result = _stack("up")
    assert result.returncode == 0, result.stderr
    assert "started" not in result.stdout.replace("already running", "")
    assert _pids(settings) == before


def test_down_then_up_keeps_rows_and_messages(settings: Settings, scratch_topic: str) -> None:
    marker = uuid.uuid4().hex
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS lifecycle_test (marker text PRIMARY KEY)")
        conn.execute("INSERT INTO lifecycle_test VALUES (%s)", (marker,))
    producer = Producer(settings.kafka_client_config(acks="all"))
    producer.produce(scratch_topic, key="k", value=marker, partition=0)
    assert producer.flush(30) == 0

    down = _stack("down")
    assert down.returncode == 0, down.stderr
    assert all(pid is None for pid in _pids(settings).values()), _pids(settings)
    status = _stack("status")
    assert status.returncode != 0
    assert "stopped" in status.stdout

    up = _stack("up")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    assert all(_pids(settings).values())

    with psycopg.connect(settings.election_db.conninfo()) as conn:
        kept = conn.execute("SELECT count(*) FROM lifecycle_test WHERE marker = %s", (marker,)).fetchone()
        conn.execute("DROP TABLE lifecycle_test")
    assert kept == (1,)
    consumer = Consumer(settings.kafka_client_config(**{"group.id": f"lifecycle-{marker}"}))
    consumer.assign([TopicPartition(scratch_topic, 0, 0)])
    try:
        msg = consumer.poll(30)
    finally:
        consumer.close()
    assert msg is not None
    assert msg.error() is None
    assert msg.value().decode() == marker
