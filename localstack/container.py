"""What the Docker Compose services run: `python -m localstack container <role>`.

The same settings module and the same Airflow environment as the local stack; only where the services live
differs (service names instead of localhost, set in docker-compose.yaml's environment).

- `init`: the two databases and their roles, Airflow's metadata migration, the admin password, the topics;
- `airflow <component>`: replaces itself with `airflow <component>` (api-server, scheduler, ..., and `celery-worker`:
  `airflow celery worker`);
- `dashboard`: replaces itself with the Streamlit server, listening on every interface.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import psycopg
from tenacity import retry, stop_after_delay, wait_fixed

from election import kafka_access
from election.config import Settings
from election.kafka_topics import ensure_topics
from localstack import airflow, dashboard
from localstack.postgres import ensure_access

# `celery-worker`: `airflow celery worker` (the CeleryExecutor's workers)
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")
log = logging.getLogger("localstack.container")


@retry(stop=stop_after_delay(120), wait=wait_fixed(2), reraise=True)
def _superuser(settings: Settings) -> psycopg.Connection:
    db = settings.election_db
    return psycopg.connect(
        host=db.host,
        port=db.port,
        dbname="postgres",
        user=settings.db_superuser,
        password=settings.db_superuser_password,
        autocommit=True,
        connect_timeout=5,
    )


@retry(stop=stop_after_delay(120), wait=wait_fixed(2), reraise=True)
def _topics(settings: Settings) -> list[str]:
    return ensure_topics(settings)


def init(settings: Settings) -> None:
    """The one-shot init service: each step logged to the container's output (`docker compose logs airflow-init`)."""
    logging.basicConfig(level=logging.INFO, format="init: %(message)s", stream=sys.stdout)
    with _superuser(settings) as conn:
        ensure_access(conn, settings)
    log.info("databases election and airflow and their roles ready")
    airflow.write_admin_password(settings)
    airflow.migrate(settings)
    log.info("airflow metadata migrated")
    created = _topics(settings)
    log.info("topics created: %s", ", ".join(created) or "none (all exist)")
    log.info("Kafka principals and ACLs applied: %s", ", ".join(kafka_access.apply(settings)))


def exec_airflow(settings: Settings, component: str) -> None:
    if component not in AIRFLOW_COMPONENTS:
        raise SystemExit(f"unknown Airflow component {component!r}; one of {', '.join(AIRFLOW_COMPONENTS)}")
    executable = str(Path(sys.executable).parent / "airflow")
    arguments = [executable, *component.split("-")] if component == "celery-worker" else [executable, component]
    if component == "api-server":
        arguments += ["--port", str(settings.airflow_port), "--workers", "1"]
    # exec, not a child: the container's main process is Airflow itself, and gets its signals
    os.execve(executable, arguments, airflow_environment(settings))  # noqa: S606


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The local stack's Airflow environment, but for one thing: the stream's Spark driver (a task on a Celery worker)
    listens on and advertises the container's own address (its hostname, resolved on the Compose network), which the
    executors on the Spark workers dial, not the local stack's 127.0.0.1."""
    environment = {**os.environ, **airflow.airflow_environment(settings)}
    environment.pop("SPARK_LOCAL_IP", None)
    return environment


def exec_dashboard(settings: Settings) -> None:
    arguments = dashboard.command(settings, address="0.0.0.0")  # noqa: S104 - inside its container
    os.execv(arguments[0], arguments)  # noqa: S606
