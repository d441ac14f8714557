"""Scratch space for benchmarks: a PostgreSQL schema and Kafka topics of their own, removed afterwards.

Benchmarks run against the live stack without touching the election a user may have loaded: tables go to
schema `bench_<name>` (via search_path), topics get the prefix `bench_<name>_`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
from confluent_kafka.admin import AdminClient, NewTopic
from psycopg import sql

from election.config import Settings
from election.schema import upsert_regions
from election.sql import SQL_DIR, schema_files


@dataclass(frozen=True)
class Scratch:
    settings: Settings
    schema: str
    topic_prefix: str

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.settings.election_db.conninfo(), options=f"-c search_path={self.schema}", **kwargs)

    @property
    def sqlalchemy_url(self) -> str:
        return self.settings.election_db.sqlalchemy_url() + "?options=" + quote(f"-csearch_path={self.schema}")

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def pgoptions(self) -> str:
        """For libpq clients started by the benchmark (the Spark driver): PGOPTIONS=-c search_path=<schema>."""
        return f"-c search_path={self.schema}"


@contextlib.contextmanager
def scratch(settings: Settings, name: str, topics: dict[str, int]) -> Iterator[Scratch]:
    """A fresh schema with the election's tables and the given topics (name -> partitions)."""
    space = Scratch(settings, f"bench_{name}", f"bench_{name}_")
    with psycopg.connect(settings.election_db.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(space.schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(space.schema)))
    with space.connect() as conn:
        for name_ in schema_files():
            conn.execute((SQL_DIR / name_).read_text())
        # The streaming job reads through the dashboard's read-only role.
        reader = sql.Identifier(settings.dashboard_db_user)
        schema_id = sql.Identifier(space.schema)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, reader))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema_id, reader))
        conn.commit()
        upsert_regions(conn)
    admin = AdminClient(settings.kafka_client_config())
    names = [space.topic(t) for t in topics]
    _delete_topics(admin, names)
    futures = admin.create_topics([NewTopic(space.topic(t), n, 1) for t, n in topics.items()])
    for future in futures.values():
        future.result(30)
    try:
        yield space
    finally:
        _delete_topics(admin, names)
        with psycopg.connect(settings.election_db.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(space.schema)))


def _delete_topics(admin: AdminClient, names: list[str]) -> None:
    existing = [n for n in names if n in admin.list_topics(timeout=10).topics]
    if not existing:
        return
    for future in admin.delete_topics(existing).values():
        future.result(30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and set(existing) & set(admin.list_topics(timeout=10).topics):
        time.sleep(0.5)


def table(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([line.format(*headers), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])
