"""A Spark standalone cluster for the cluster profile: one master and ELECTION_SPARK_WORKERS workers, started with
`spark-class` from pyspark's own distribution (the same Spark the driver runs), all on localhost.

The `election_spark` connection points at `spark://127.0.0.1:<ELECTION_SPARK_MASTER_PORT>`; the stream's driver runs
in the Airflow task (client mode) and its executors on the workers. The checkpoint is a path the driver and every
worker share: here the local disk they all see; on a real cluster, HDFS or object storage (docs/scaling.md).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import httpx
import pyspark

from election.config import Settings
from localstack.process import Service

SPARK_HOME = Path(pyspark.__file__).parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def _environment(settings: Settings) -> dict[str, str]:
    return {
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",  # nothing of the local stack listens on other interfaces
        "SPARK_LOG_DIR": str(settings.state_dir / "logs"),
        # Daemons' heap: the master and workers only schedule; executors get their own JVMs.
        "SPARK_DAEMON_MEMORY": "256m",
    }


def master_state(settings: Settings) -> dict:
    """The master's view of the cluster (its web UI's JSON): status, workers with their state, applications."""
    response = httpx.get(f"http://127.0.0.1:{settings.spark_master_ui_port}/json/", timeout=3)
    response.raise_for_status()
    return response.json()


def _worker_ui_port(settings: Settings, worker: int) -> int:
    return settings.spark_master_ui_port + worker


def _worker_alive(settings: Settings, worker: int) -> bool:
    """Worker `worker` is registered with the master and ALIVE (found by its web UI's port)."""
    port = _worker_ui_port(settings, worker)
    for found in master_state(settings).get("workers", []):
        if found.get("state") == "ALIVE" and urlparse(found.get("webuiaddress", "")).port == port:
            return True
    return False


def services(settings: Settings) -> list[Service]:
    """The master, then each worker (none in the single profile, where the stream runs in `local[*]`)."""
    if settings.spark_workers < 1:
        return []
    master_url = settings.spark_master
    port = int(master_url.rsplit(":", 1)[1])
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    env = _environment(settings)
    common = {"run_dir": settings.state_dir / "run", "log_dir": settings.state_dir / "logs", "env": env}
    found = [
        Service(
            name="spark-master",
            command=[
                spark_class,
                MASTER_CLASS,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(settings.spark_master_ui_port),
            ],
            health=lambda: master_state(settings).get("status") == "ALIVE",
            port=port,
            port_variable="ELECTION_SPARK_MASTER_PORT",
            start_timeout=90,
            **common,
        )
    ]
    for worker in range(1, settings.spark_workers + 1):
        work_dir = settings.state_dir / "spark" / f"worker-{worker}"
        found.append(
            Service(
                name=f"spark-worker-{worker}",
                command=[
                    spark_class,
                    WORKER_CLASS,
                    master_url,
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    str(settings.spark_worker_cores),
                    "--memory",
                    settings.spark_worker_memory,
                    "--webui-port",
                    str(_worker_ui_port(settings, worker)),
                    "--work-dir",
                    str(work_dir),
                ],
                health=lambda worker=worker: _worker_alive(settings, worker),
                port=_worker_ui_port(settings, worker),
                port_variable="ELECTION_SPARK_MASTER_UI_PORT",
                start_timeout=90,
                **common,
            )
        )
    return found
