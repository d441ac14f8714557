"""Connections for task code, from the Airflow connections (conn ids from the config module).

Tasks call these at run time; a user who edits `election_postgres` or `election_kafka` in the UI changes
what the tasks use. Never called at DAG parse time.
"""

from __future__ import annotations

import psycopg

from election.config import get_settings


def postgres_connection(conn_id: str | None = None) -> psycopg.Connection:
    """A psycopg 3 connection of the Postgres connection (not in autocommit)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=conn_id or get_settings().postgres_conn_id).get_conn()
    if not isinstance(conn, psycopg.Connection):
        raise TypeError("the Postgres provider must use psycopg 3 (SQLAlchemy 2 and psycopg installed)")
    return conn


def postgres_sqlalchemy_url(conn_id: str | None = None) -> str:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=conn_id or get_settings().postgres_conn_id)
    return hook.sqlalchemy_url.render_as_string(hide_password=False)


def kafka_config(conn_id: str | None = None) -> dict[str, object]:
    """The librdkafka configuration of the Kafka connection (its extra, as the Kafka provider reads it)."""
    from airflow.sdk import BaseHook

    return dict(BaseHook.get_connection(conn_id or get_settings().kafka_conn_id).extra_dejson)
