"""Which services make up the local stack of the chosen profile, in start order (PostgreSQL, which pg_ctl manages, and
the watchdog, which watches these, apart).

single:  kafka, airflow-{api-server,scheduler,dag-processor,triggerer}, dashboard
cluster: kafka-1..3, redis, spark-master, spark-worker-1..2, the four Airflow components, airflow-worker-1..2,
         dashboard
"""

from __future__ import annotations

from election.config import Settings
from localstack import airflow, celery_broker, dashboard, kafka, spark
from localstack.process import Service


def services(settings: Settings) -> list[Service]:
    found = [broker.service for broker in kafka.nodes(settings)]
    redis = celery_broker.service(settings)
    found += [redis] if redis is not None else []
    found += spark.services(settings)
    found += airflow.services(settings)
    dash = dashboard.service(settings)
    return found + ([dash] if dash is not None else [])
