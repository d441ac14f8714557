"""Pieces of the local stack that need no running service."""

from __future__ import annotations

import socket

import pytest

from election.config import get_settings, read_settings
from election.kafka_topics import topic_specs
from localstack.kafka import server_properties
from localstack.process import StackError, ensure_port_free, wait_until


def test_a_busy_port_names_the_port_and_the_variable_to_change() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StackError, match=rf"port {port} .*ELECTION_AIRFLOW_PORT"):
            ensure_port_free(port, "ELECTION_AIRFLOW_PORT", "Airflow")


def test_a_free_port_passes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ensure_port_free(port, "X", "x")


def test_waiting_gives_up_with_the_log_tail(tmp_path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("line one\nfatal: out of cheese\n")
    with pytest.raises(StackError, match="out of cheese"):
        wait_until(lambda: False, timeout=0.2, what="svc", log_file=log, interval=0.05)


def test_single_node_broker_settings() -> None:
    props = dict(
        line.split("=", 1) for line in server_properties(get_settings(), get_settings().state_dir).splitlines()
    )
    assert props["process.roles"] == "broker,controller"
    assert "zookeeper.connect" not in props
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "default.replication.factor",
        "min.insync.replicas",
    ):
        assert props[key] == "1", key


def test_topic_contract() -> None:
    specs = {spec.name: spec for spec in topic_specs(get_settings())}
    assert set(specs) == {
        "voters_topic",
        "candidates_topic",
        "votes_topic",
        "aggregated_votes_per_candidate",
        "aggregated_turnout_by_location",
        "aggregated_votes_per_party",
        "aggregated_votes_over_time",
        "aggregated_votes_by_demographics",
        "aggregated_votes_per_state_candidate",
        "votes_dead_letter",
        "race_calls",
        "election_results",
        "election_stream_heartbeat",
    }
    assert specs["votes_topic"].partitions >= 3
    assert {name for name, spec in specs.items() if spec.compacted} == {
        *(name for name in specs if name.startswith("aggregated_")),
        "votes_dead_letter",
        "race_calls",
        "election_results",
    }


def test_credentials_are_generated_once_shell_safe_and_never_over_a_set_variable(tmp_path, monkeypatch) -> None:
    import subprocess

    from election import config
    from localstack import credentials

    path = tmp_path / "credentials.env"
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("ELECTION_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("ELECTION_DB_PASSWORD", "chosen-by-the-user")
    for name in credentials.GENERATED:
        if name != "ELECTION_DB_PASSWORD":
            monkeypatch.delenv(name, raising=False)
    config.get_settings.cache_clear()
    try:
        settings, generated = credentials.ensure(config.get_settings())
        assert "ELECTION_DB_PASSWORD" not in generated
        # Redis's only where Celery runs (the cluster profile)
        assert set(generated) == set(credentials.GENERATED) - {"ELECTION_DB_PASSWORD", "ELECTION_REDIS_PASSWORD"}
        assert len(settings.dashboard_db_password) >= 20, "generated, not a word"
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert credentials.ensure(settings)[1] == [], "a second `make up` keeps them"
        sourced = subprocess.run(
            ["bash", "-c", f"set -a; . {path}; echo $ELECTION_DASHBOARD_DB_PASSWORD"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert sourced.stdout.strip() == settings.dashboard_db_password
        monkeypatch.setenv("ELECTION_CELERY_WORKERS", "2")
        config.get_settings.cache_clear()
        assert credentials.ensure(config.get_settings())[1] == ["ELECTION_REDIS_PASSWORD"]
    finally:
        config.get_settings.cache_clear()


def test_replication_is_a_setting_with_unclean_leader_election_off(monkeypatch) -> None:
    single = topic_specs(get_settings())
    assert {(s.replication, s.config["min.insync.replicas"]) for s in single} == {(1, "1")}, "the single broker"
    monkeypatch.setenv("ELECTION_KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("ELECTION_KAFKA_MIN_INSYNC_REPLICAS", "2")
    cluster = topic_specs(read_settings())  # read afresh, not the cached settings
    assert {(s.replication, s.config["min.insync.replicas"]) for s in cluster} == {(3, "2")}
    assert all(s.config["unclean.leader.election.enable"] == "false" for s in cluster)
    assert next(s for s in cluster if s.name == "race_calls").compacted, "the topic's own settings are kept"
    monkeypatch.setenv("ELECTION_KAFKA_MIN_INSYNC_REPLICAS", "4")
    with pytest.raises(ValueError, match="MIN_INSYNC_REPLICAS"):
        topic_specs(read_settings())  # read afresh, not the cached settings


def test_stopping_a_service_leaves_a_service_it_started_running(tmp_path) -> None:
    """The watchdog starts the services it restarts in sessions of their own: stopping it must not stop them (it
    did: they were SIGKILLed as its stragglers)."""
    import sys
    import time

    import psutil

    from localstack.process import Service

    pid_file = tmp_path / "child.pid"
    spawn = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen(['sleep', '120'], start_new_session=True); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(120)"
    )
    parent = Service("parent", [sys.executable, "-c", spawn], tmp_path / "run", tmp_path / "logs", health=lambda: True)
    assert parent.start()
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=20, what="the child", interval=0.1)
    child = psutil.Process(int(pid_file.read_text()))
    try:
        started = time.monotonic()
        assert parent.stop()
        assert time.monotonic() - started < 10, "no wait for the other session's process"
        assert child.is_running()
        assert child.status() != psutil.STATUS_ZOMBIE
    finally:
        child.kill()
