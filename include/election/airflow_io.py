"""Connections for task code, from the Airflow connections (conn ids from the config module).

Tasks call these at run time; a user who edits `election_postgres` or `election_kafka` in the UI changes
what the tasks use. Never called at DAG parse time.
"""

from __future__ import annotations

from typing import TypeVar

import psycopg

from election.config import get_settings

C = TypeVar("C", bound=psycopg.Connection)


def _postgres_hook(conn_id: str | None):
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=conn_id or get_settings().postgres_conn_id)


def postgres_conninfo(conn_id: str | None = None) -> str:
    """The libpq connection string of the Postgres connection."""
    from psycopg.conninfo import make_conninfo

    connection = _postgres_hook(conn_id).connection
    return make_conninfo(
        host=connection.host,
        port=connection.port or 5432,
        dbname=connection.schema,
        user=connection.login,
        password=connection.password,
    )


def postgres_connection(conn_id: str | None = None, connection_class: type[C] = psycopg.Connection) -> C:
    """A psycopg 3 connection of the Postgres connection (not in autocommit), of `connection_class` (e.g. the
    seed's LendableConnection)."""
    return connection_class.connect(postgres_conninfo(conn_id))


def postgres_sqlalchemy_url(conn_id: str | None = None) -> str:
    """The Postgres connection as a SQLAlchemy URL for psycopg 3 (what Alembic runs the migrations with)."""
    url = _postgres_hook(conn_id).sqlalchemy_url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def kafka_config(conn_id: str | None = None) -> dict[str, object]:
    """The librdkafka configuration of a Kafka connection (its extra, as the Kafka provider reads it)."""
    from airflow.sdk import BaseHook

    return dict(BaseHook.get_connection(conn_id or get_settings().kafka_conn_id).extra_dejson)
