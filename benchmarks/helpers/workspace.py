"""A benchmark's own elections and topics, removed afterwards.

Benchmarks run against the live stack without touching what a user has: every election they measure is their
own (deleted at the end), and every topic they produce to or read from is the platform's topic under a prefix of
their own (`bench_<name>_`), created as `make up` creates the real ones and deleted at the end.

The schema must be at its newest revision. A database that has none yet (a stack just started, `election_schema`
never run) gets it here, as `election_schema` would make it; one at an older revision is the user's to migrate
(`election_schema`), so the benchmark stops and says so rather than migrating their data.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from confluent_kafka.admin import AdminClient

from election import elections
from election.config import Settings, Topics
from election.kafka_topics import create_topics, topic_specs
from election.schema import bring_up_to_date, schema_revision


@dataclass
class Workspace:
    settings: Settings
    prefix: str
    topics: Topics
    staging: Path
    elections: list[int] = field(default_factory=list)

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.settings.election_db.conninfo(), **kwargs)

    def new_election(self, voters: int, candidates: int = 5, random_seed: int = 7, *, publish: bool = True) -> int:
        """An election of the benchmark's own, through the seed's steps (published to the workspace's topics)."""
        from election.kafka_io import reliable_producer
        from election.quality.connection import LendableConnection
        from election.seeding.pipeline import generate_step, load_step, publish_step
        from election.seeding.staging import SeedRequest

        staged = generate_step(SeedRequest(voters, candidates, random_seed, self.settings.election_date), self.staging)
        with LendableConnection.connect(self.settings.election_db.conninfo()) as conn:
            election_id = load_step(conn, staged, name=f"benchmark {self.prefix}{voters}").election_id
        self.elections.append(election_id)
        if publish:
            with self.connect() as conn:
                producer = reliable_producer(self.settings.kafka_client_config())  # a workspace's topics: the admin
                publish_step(conn, producer, election_id, self.topics.candidates, self.topics.voters)
        return election_id


class SchemaNotCurrent(SystemExit):
    """The election database is at an older revision than the code's (a benchmark does not migrate it)."""


def require_schema(settings: Settings) -> None:
    """The schema at its newest revision: created on a database that has none, refused on an older one."""
    url = settings.election_db.sqlalchemy_url("psycopg")
    current, newest = schema_revision(url)
    if current == newest:
        return
    if current is not None:
        raise SchemaNotCurrent(
            f"[bench] the election database's schema is at revision {current}, this code's is {newest}: "
            "trigger election_schema in Airflow to migrate it, then run the benchmarks again"
        )
    print(f"[bench] the election database has no schema yet: creating it (revision {newest}), as election_schema does")
    bring_up_to_date(settings)


@contextlib.contextmanager
def workspace(settings: Settings, name: str) -> Iterator[Workspace]:
    require_schema(settings)
    prefix = f"bench_{name}_"
    topics = settings.topics.prefixed(prefix)
    specs = topic_specs(settings, topics)
    admin = AdminClient(settings.kafka_client_config())
    _delete_topics(admin, [spec.name for spec in specs])
    create_topics(admin, specs)
    space = Workspace(settings, prefix, topics, Path(tempfile.mkdtemp(prefix=prefix, dir=settings.state_dir)))
    try:
        yield space
    finally:
        _delete_topics(admin, [spec.name for spec in specs])
        shutil.rmtree(space.staging, ignore_errors=True)
        with space.connect() as conn:
            for election_id in space.elections:
                elections.delete(conn, election_id)


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
