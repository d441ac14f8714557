"""The config module: defaults of the local stack, overrides from the environment, the Airflow connections."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from election import config


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch):
    """get_settings() re-read after the test changed the environment."""
    config.get_settings.cache_clear()
    yield lambda: (config.get_settings.cache_clear(), config.get_settings())[1]
    config.get_settings.cache_clear()


def test_local_defaults(monkeypatch: pytest.MonkeyPatch, fresh_settings) -> None:
    for name in (
        "ELECTION_DB_PORT",
        "ELECTION_KAFKA_PORT",
        "ELECTION_KAFKA_BOOTSTRAP",
        "ELECTION_AIRFLOW_PORT",
        "ELECTION_DASHBOARD_PORT",
        "ELECTION_STATE_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    s = fresh_settings()
    assert (s.election_db.port, s.kafka_port, s.airflow_port, s.dashboard_port) == (5432, 9092, 8080, 8501)
    assert s.kafka_bootstrap == "localhost:9092"
    assert (s.postgres_conn_id, s.kafka_conn_id, s.spark_conn_id) == (
        "election_postgres",
        "election_kafka",
        "election_spark",
    )
    assert s.topics.votes == "votes_topic"
    assert s.state_dir == s.home / ".local"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, fresh_settings) -> None:
    monkeypatch.setenv("ELECTION_KAFKA_PORT", "19092")
    monkeypatch.setenv("ELECTION_DB_PASSWORD", "p@ss word/")
    monkeypatch.setenv("ELECTION_STATE_DIR", "elsewhere")
    s = fresh_settings()
    assert s.kafka_bootstrap == "localhost:19092"
    assert s.state_dir == s.home / "elsewhere"  # relative paths are taken from the project, not the cwd
    assert "p%40ss%20word%2F" in s.election_db.sqlalchemy_url()
    assert "password='p@ss word/'" in s.election_db.conninfo()


def test_a_bad_integer_names_the_variable(monkeypatch: pytest.MonkeyPatch, fresh_settings) -> None:
    monkeypatch.setenv("ELECTION_DB_PORT", "fivefour")
    with pytest.raises(ValueError, match="ELECTION_DB_PORT must be an integer"):
        fresh_settings()


@pytest.mark.parametrize(
    ("master", "expected"),
    [("local[*]", "local[*]"), ("spark://spark-master:7077", "spark://spark-master:7077")],
)
def test_spark_connection_resolves_to_the_master(monkeypatch, fresh_settings, master: str, expected: str) -> None:
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    monkeypatch.setenv("ELECTION_SPARK_MASTER", master)
    for name, value in fresh_settings().airflow_connections().items():
        monkeypatch.setenv(name, value)
    hook = SparkSubmitHook(conn_id="election_spark")
    assert hook._connection["master"] == expected


def test_connections_are_json_with_credentials_from_the_environment(monkeypatch, fresh_settings) -> None:
    monkeypatch.setenv("ELECTION_DB_PASSWORD", "s3cret")
    conns = fresh_settings().airflow_connections()
    postgres = json.loads(conns["AIRFLOW_CONN_ELECTION_POSTGRES"])
    assert (postgres["conn_type"], postgres["password"], postgres["schema"]) == (
        "postgres",
        "s3cret",
        "election",
    )
    kafka = json.loads(conns["AIRFLOW_CONN_ELECTION_KAFKA"])
    assert kafka["extra"]["bootstrap.servers"] == "localhost:9092"


_ENV_READ = re.compile(r"""(environ(\.get)?[\[(]|getenv\()\s*["'](ELECTION_|AIRFLOW_ADMIN)""")
_DSN_WITH_PASSWORD = re.compile(r"[a-z+]+://[^/\s:@'\"]+:[^@\s'\"{]+@")


def test_only_the_config_module_reads_settings_or_holds_a_dsn() -> None:
    root = Path(config.__file__).resolve().parents[2]
    sources = [
        path
        for folder in ("include", "dags", "dashboard", "spark_jobs", "benchmarks", "plugins")
        for path in (root / folder).rglob("*.py")
        if path.resolve() != Path(config.__file__).resolve()
    ]
    assert sources, "the scan must see the project's sources"
    env_readers = [str(p) for p in sources if _ENV_READ.search(p.read_text())]
    dsns = [str(p) for p in sources if _DSN_WITH_PASSWORD.search(p.read_text())]
    assert env_readers == []
    assert dsns == []


def test_the_scan_would_catch_an_env_read_and_a_dsn() -> None:
    assert _ENV_READ.search('os.environ.get("ELECTION_DB_PASSWORD")')
    assert _ENV_READ.search("os.environ['ELECTION_DB_HOST']")
    assert _DSN_WITH_PASSWORD.search('"postgresql://election:election@localhost/election"')
    assert not _DSN_WITH_PASSWORD.search('f"{settings.airflow_url}/api/v2/dags"')


def test_env_example_is_shell_safe_and_means_what_the_config_reads(monkeypatch, fresh_settings) -> None:
    import subprocess

    root = Path(config.__file__).resolve().parents[2]
    shell = subprocess.run(
        ["bash", "-c", "set -a; . ./.env.example; set +a; env"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = dict(line.split("=", 1) for line in shell.stdout.splitlines() if line.startswith("ELECTION_"))
    assert loaded["ELECTION_STREAM_TRIGGER_INTERVAL"] == "1 second"
    assert loaded["ELECTION_STREAM_WINDOW"] == "1 minute"
    # make keeps the quotes (the Makefile includes .env): the config module reads the value without them
    monkeypatch.setenv("ELECTION_STREAM_TRIGGER_INTERVAL", "'1 second'")
    assert fresh_settings().stream_trigger_interval == "1 second"


def test_passwords_come_from_the_generated_file_beneath_the_environment(tmp_path, monkeypatch, fresh_settings) -> None:
    secrets = tmp_path / "credentials.env"
    secrets.write_text("# generated\nELECTION_DB_PASSWORD=from-the-file\nELECTION_DASHBOARD_DB_PASSWORD='quoted'\n")
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(secrets))
    monkeypatch.delenv("ELECTION_DB_PASSWORD", raising=False)
    monkeypatch.delenv("ELECTION_DASHBOARD_DB_PASSWORD", raising=False)
    s = fresh_settings()
    assert (s.election_db.password, s.dashboard_db_password) == ("from-the-file", "quoted")
    monkeypatch.setenv("ELECTION_DB_PASSWORD", "from-the-environment")
    assert fresh_settings().election_db.password == "from-the-environment"


def test_no_password_has_a_default(tmp_path, monkeypatch, fresh_settings) -> None:
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(tmp_path / "none.env"))
    for name in ("ELECTION_DB_PASSWORD", "ELECTION_DASHBOARD_DB_PASSWORD", "ELECTION_AIRFLOW_DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    s = fresh_settings()
    assert (s.election_db.password, s.dashboard_db_password, s.airflow_db.password) == ("", "", "")


def _env_example() -> dict[str, str]:
    """Every variable `.env.example` sets, as a shell (and so `make`, and Compose) loads it."""
    import subprocess

    root = Path(config.__file__).resolve().parents[2]
    shell = subprocess.run(
        ["bash", "-c", "env -i bash -c 'set -a; . ./.env.example; set +a; env -0'"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.MULTILINE))
    loaded = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
    return {name: loaded[name] for name in names}


@pytest.mark.parametrize("profile", config.PROFILES)
def test_every_value_env_example_sets_is_valid_for_each_profile(profile: str, monkeypatch, tmp_path) -> None:
    """`cp .env.example .env` changes nothing: each value it sets is each profile's own default (a value that pins
    one profile's path, such as the single node's checkpoint, would hand the cluster another cluster's offsets)."""
    example = _env_example()
    assert "ELECTION_CHECKPOINT_DIR" in example, "the scan sees the file's variables"
    for name in list(os.environ):
        if name.startswith(("ELECTION_", "AIRFLOW_ADMIN")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(tmp_path / "none.env"))
    defaults = config.read_settings(profile)
    for name, value in example.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(tmp_path / "none.env"))
    with_example = config.read_settings(profile)
    differing = {
        field: (getattr(defaults, field), getattr(with_example, field))
        for field in defaults.__dataclass_fields__
        if getattr(defaults, field) != getattr(with_example, field)
    }
    assert differing == {}, f"values of .env.example that are not the {profile} profile's defaults"


def test_a_value_pinning_one_profile_would_be_caught(monkeypatch, tmp_path) -> None:
    """The check above fails on the bug it guards against: the single node's checkpoint set for every profile."""
    for name in list(os.environ):
        if name.startswith("ELECTION_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(tmp_path / "none.env"))
    cluster = config.read_settings("cluster")
    monkeypatch.setenv("ELECTION_CHECKPOINT_DIR", ".local/checkpoints/vote_stream")
    assert config.read_settings("cluster").checkpoint_dir != cluster.checkpoint_dir
