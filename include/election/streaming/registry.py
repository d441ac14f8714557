"""The registry the stream checks votes against: the elections it counts (every one not yet certified), their
candidates and their voter roll, read from PostgreSQL when the job (re)starts its queries.

The roll is held in Spark's memory, partitioned and sorted by (election_id, voter_id) exactly as the stream's
votes are shuffled for deduplication: each micro-batch joins against it without shuffling it again, and the
deduplication needs no shuffle of its own. An election's roll does not change once it is loaded (the seed commits
all its voters at once), so the registry is reloaded only when the set of counted elections changes: a new
election seeded, or one certified (`changed()`).

Reading: through the stream's own read-only role (`ELECTION_STREAM_DB_*`), which sees the roll without names,
addresses, birth dates or contacts, and no vote at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from election.config import Database
from election.pg_copy import copy_table
from election.records import CandidateLabel
from election.sql import read_sql
from election.streaming import transforms

_ROLL_ARROW = pa.schema(
    [
        pa.field("election_id", pa.int64(), False),
        pa.field("voter_id", pa.string(), False),
        pa.field("registered_state", pa.string(), False),
        pa.field("gender", pa.string(), False),
        pa.field("age", pa.int32()),
    ]
)


def _scope(only: tuple[int, ...] | None) -> dict[str, list[int] | None]:
    return {"only": list(only) if only is not None else None}


def counted_elections(database: Database, only: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The ids of the elections the stream counts now (cheap: polled every few seconds); `only`: of these."""
    with psycopg.connect(database.conninfo(), connect_timeout=10) as conn:
        rows = conn.execute(read_sql("streaming/counted_elections.sql"), _scope(only)).fetchall()
    return tuple(int(e) for (e,) in rows)


@dataclass
class Registry:
    elections: tuple[int, ...]
    labels: Mapping[tuple[int, str], CandidateLabel]  # (election_id, candidate_id) -> label
    registered: Mapping[tuple[int, str], int]  # (election_id, state) -> registered voters
    roll: DataFrame
    only: tuple[int, ...] | None = None  # the job was told to count only these
    voters: int = 0
    timings: str = ""  # where the load's time went, for the job's log
    _cached: list[DataFrame] = field(default_factory=list)

    @classmethod
    def load(
        cls, spark: SparkSession, database: Database, partitions: int, only: tuple[int, ...] | None = None
    ) -> Registry:
        scope = _scope(only)
        clock = time.monotonic()
        with psycopg.connect(database.conninfo(), connect_timeout=10) as conn, conn.transaction():
            # one snapshot: the roll, candidates and counts of the same elections
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            elections = tuple(
                int(e) for (e,) in conn.execute(read_sql("streaming/counted_elections.sql"), scope).fetchall()
            )
            candidate_rows = conn.execute(read_sql("streaming/candidates.sql"), scope).fetchall()
            registered_rows = conn.execute(read_sql("streaming/registered_voters.sql"), scope).fetchall()
            roll_table = copy_table(conn, read_sql("streaming/voter_roll.sql"), scope, _ROLL_ARROW)
        copied = time.monotonic()
        labels = {(int(e), cid): CandidateLabel(name, party, photo) for e, cid, name, party, photo in candidate_rows}
        registered = {(int(e), state): int(n) for e, state, n in registered_rows}
        if roll_table.num_rows:
            roll = spark.createDataFrame(roll_table, schema=transforms.ROLL_SCHEMA)
        else:
            roll = spark.createDataFrame([], transforms.ROLL_SCHEMA)
        # partitioned and sorted the way the votes are shuffled for deduplication: joined without a shuffle of it
        roll = (
            roll.repartition(partitions, "election_id", "voter_id")
            .sortWithinPartitions("election_id", "voter_id")
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        voters = roll.count()  # materialised now, not during the first micro-batch
        timings = f"read {copied - clock:.1f}s, into Spark {time.monotonic() - copied:.1f}s"
        return cls(elections, labels, registered, roll, only, voters, timings, [roll])

    @property
    def parties(self) -> dict[tuple[int, str], str]:
        """(election_id, candidate_id) -> the candidate's party: who stands in the counted elections."""
        return {key: label.party for key, label in self.labels.items()}

    def changed(self, database: Database) -> bool:
        """True when PostgreSQL counts other elections than the ones loaded (a new one seeded, one certified)."""
        return counted_elections(database, self.only) != self.elections

    def release(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
