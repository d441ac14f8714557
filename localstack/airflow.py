"""Airflow 3 for the local stack: api-server, scheduler, dag-processor and triggerer; the LocalExecutor (single
profile) or the CeleryExecutor with ELECTION_CELERY_WORKERS workers and Redis as its broker (cluster profile).

Everything Airflow needs is given as environment variables built here from the config module, so the same
environment serves the four components, `airflow` CLI calls (`make airflow ARGS=...`) and the tests'
in-process `dag.test()` runs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from election.config import Settings
from localstack.process import Service, StackError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# The health endpoint reports these by name (the api-server answering is its own health).
_HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def airflow_home(settings: Settings) -> Path:
    return settings.state_dir / "airflow"


def passwords_file(settings: Settings) -> Path:
    return airflow_home(settings) / "simple_auth_manager_passwords.json"


def _generated_secrets(settings: Settings) -> dict[str, str]:
    """Keys that must be equal across the components; generated once per checkout, kept in `.local/`. Two processes
    asking at once (`make up` and a test session starting beside it) get the same keys: the file is created whole,
    0600 from the start, by whichever comes first, and the other reads it."""
    path = airflow_home(settings) / "secrets.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "fernet_key": Fernet.generate_key().decode(),
            "jwt_secret": secrets.token_urlsafe(32),
            "api_secret_key": secrets.token_urlsafe(32),
        }
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps(values))
        try:
            os.link(partial, path)  # fails if another process created it meanwhile: theirs is kept
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return json.loads(path.read_text())


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The environment of every Airflow process of the local stack."""
    home = settings.home
    generated = _generated_secrets(settings)
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "AIRFLOW_HOME": str(airflow_home(settings)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": settings.airflow_executor,
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
        "AIRFLOW__CORE__FERNET_KEY": generated["fernet_key"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{settings.airflow_host}:{settings.airflow_port}/execution/",
        "AIRFLOW__API__BASE_URL": settings.airflow_url,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": generated["api_secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": generated["jwt_secret"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.airflow_db.sqlalchemy_url(),
        # New DAG files show up within half a minute instead of five.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        # Election night's thresholds (a stream silent for a minute is a long time; Airflow's defaults are 300 s and
        # 30 s). A task whose process died with no word (the stack or a worker killed under it; its heartbeat, every
        # 5 s, stops) is failed, and retried, within half a minute: the stream comes back sooner.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
        # ... and one a scheduler left behind when the stack restarted (`make down && make up`) is reset and run again
        # within 15 s of the new scheduler's start.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
        # A scheduler or triggerer whose heartbeat (every 5 s) is 20 s old is reported unhealthy (the watchdog then
        # restarts it): four beats missed, not one slow loop.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "20",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "20",
        # Tasks call spark-submit and the venv's tools: the venv's bin comes first on PATH.
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # the Spark driver's UI and ports, on localhost only (a cluster sets its own address)
        "SPARK_LOCAL_IP": "127.0.0.1",
        **settings.airflow_connections(),
        **_celery_environment(settings),
    }
    # Anything set explicitly in the environment (AIRFLOW__...) wins over the stack's defaults.
    return {key: os.environ.get(key, value) if key.startswith("AIRFLOW__") else value for key, value in env.items()}


def _celery_environment(settings: Settings) -> dict[str, str]:
    if settings.celery_workers < 1:
        return {}
    return {
        "AIRFLOW__CELERY__BROKER_URL": settings.celery_broker_url,
        # Task states go to the metadata database, which every component already reaches.
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + settings.airflow_db.sqlalchemy_url(),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(settings.celery_worker_concurrency),
    }


def celery_log_server_port(worker: int) -> int:
    """Each worker serves its running tasks' logs on a port of its own (they share one host here), after the
    triggerer's 8794."""
    return 8795 + worker - 1


def _answers(port: int) -> bool:
    httpx.get(f"http://127.0.0.1:{port}/", timeout=3)  # any HTTP answer: the worker's log server is up
    return True


def admin_password(settings: Settings) -> str | None:
    """The admin password the api-server accepts (None before the first `make up`)."""
    try:
        return json.loads(passwords_file(settings).read_text())[settings.airflow_admin_user]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def write_admin_password(settings: Settings) -> str:
    """AIRFLOW_ADMIN_PASSWORD (generated into the credentials file on the first `make up` unless you set it)."""
    password = settings.airflow_admin_password or admin_password(settings) or secrets.token_urlsafe(12)
    path = passwords_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({settings.airflow_admin_user: password}))
    path.chmod(0o600)
    return password


def airflow_cli(settings: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    env = {**os.environ, **airflow_environment(settings)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def migrate(settings: Settings) -> bool:
    """`airflow db migrate`, skipped when this Airflow version already migrated this database."""
    airflow_version = importlib.metadata.version("apache-airflow")
    stamp = hashlib.sha256(f"{airflow_version}|{settings.airflow_db.sqlalchemy_url()}".encode()).hexdigest()
    marker = airflow_home(settings) / ".migrated"
    if marker.exists() and marker.read_text() == stamp:
        return False
    result = airflow_cli(settings, "db", "migrate")
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    marker.write_text(stamp)
    return True


def health(settings: Settings) -> dict:
    response = httpx.get(f"{settings.airflow_url}/api/v2/monitor/health", timeout=5)
    response.raise_for_status()
    return response.json()


def _component_healthy(settings: Settings, component: str) -> bool:
    report = health(settings)
    if component == "api-server":
        return report["metadatabase"]["status"] == "healthy"
    return (report.get(_HEALTH_KEYS[component]) or {}).get("status") == "healthy"


def services(settings: Settings) -> list[Service]:
    env = airflow_environment(settings)
    airflow = str(Path(sys.executable).parent / "airflow")
    commands = {
        # on localhost only: nothing of the local stack listens on other interfaces
        "api-server": [
            airflow,
            "api-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(settings.airflow_port),
            "--workers",
            "1",
        ],
        "scheduler": [airflow, "scheduler"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer"],
    }
    found = [
        Service(
            name=f"airflow-{component}",
            command=commands[component],
            run_dir=settings.state_dir / "run",
            log_dir=settings.state_dir / "logs",
            health=lambda component=component: _component_healthy(settings, component),
            port=settings.airflow_port if component == "api-server" else None,
            port_variable="ELECTION_AIRFLOW_PORT" if component == "api-server" else None,
            env=env,
            cwd=settings.home,
            start_timeout=240,
            stop_timeout=45,
        )
        for component in COMPONENTS
    ]
    for worker in range(1, settings.celery_workers + 1):
        port = celery_log_server_port(worker)
        found.append(
            Service(
                name=f"airflow-worker-{worker}",
                command=[airflow, "celery", "worker", "--celery-hostname", f"worker-{worker}@%h"],
                run_dir=settings.state_dir / "run",
                log_dir=settings.state_dir / "logs",
                health=lambda port=port: _answers(port),
                port=port,
                port_variable="AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
                env={**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port)},
                cwd=settings.home,
                start_timeout=240,
                stop_timeout=45,
            )
        )
    return found
