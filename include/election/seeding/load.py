"""Load a staged seed into PostgreSQL as a new election: one transaction, COPY, checked before it commits.

- A run creates a new, open election and COPYs its parties, candidates and voters, all in one transaction.
  The post-load data-quality checks run inside that transaction, on the rows PostgreSQL now holds: an election
  that fails them is rolled back and never visible to anyone. So is one whose load crashed or hit a constraint.
- A retry of the same election_seed run (same `seed_run`) finds the election the first attempt committed and
  loads nothing: one run, one election.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql

from election import elections
from election.seeding.staging import StagedSeed
from election.sql import read_sql

log = logging.getLogger(__name__)

COPY_BATCH_ROWS = 100_000
TABLES = ("parties", "candidates", "voters")  # in order of their references


@dataclass(frozen=True)
class LoadResult:
    election_id: int
    loaded: bool  # False: this run's election was already loaded (a retry)
    rows: dict[str, int]
    seconds: float
    message: str


def _copy_table(
    conn: psycopg.Connection,
    table_name: str,
    source: pq.ParquetFile,
    election_id: int,
    progress: Callable[[str, int], None],
) -> int:
    """COPY a staged table in CSV chunks (Arrow's C++ CSV writer; no Python loop over rows), every row belonging
    to `election_id`."""
    names = [*source.schema_arrow.names, "election_id"]
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(table_name), columns)
    done = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in source.iter_batches(COPY_BATCH_ROWS):
            batch = batch.append_column("election_id", pa.repeat(pa.scalar(election_id, pa.int64()), batch.num_rows))
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
            copy.write(buffer.getbuffer())
            done += batch.num_rows
            progress(table_name, done)
    return done


def load_seed(
    conn: psycopg.Connection,
    staged: StagedSeed,
    *,
    name: str,
    seed_run: str | None = None,
    check: Callable[[psycopg.Connection, int], object] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadResult:
    """Create an election and load the staged frames into it, in one transaction (the caller's connection must
    not be in autocommit). `check(conn, election_id)` runs before the commit; raising rolls everything back."""
    start = time.perf_counter()
    request = staged.request
    progress = progress or (lambda table, rows: None)
    with conn.transaction():
        if seed_run is not None:
            conn.execute(read_sql("seed/seed_lock.sql"), {"seed_run": seed_run})
            existing = elections.by_seed_run(conn, seed_run)
            if existing is not None:
                return LoadResult(
                    existing.election_id,
                    False,
                    {},
                    time.perf_counter() - start,
                    f"this run already loaded {existing.describe()}: nothing to do",
                )
        election_id = elections.create(
            conn,
            name=name,
            random_seed=request.random_seed,
            num_voters=request.num_voters,
            num_candidates=request.num_candidates,
            election_date=request.election_date,
            seed_run=seed_run,
            turnout_min=request.turnout_min,
            turnout_max=request.turnout_max,
        )
        conn.execute(read_sql("seed/loading.sql"), {"election_id": election_id})
        rows = {}
        for table in TABLES:
            with staged.parquet(table) as source:
                rows[table] = _copy_table(conn, table, source, election_id, progress)
        conn.execute(read_sql("seed/election_states.sql"), {"election_id": election_id})
        # Fresh statistics for the checks' plans: without them the planner still sees the tables as they were
        # before a million rows arrived and walks the new rows through nested loops (README, Where the time goes).
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in TABLES)))
        if check is not None:
            check(conn, election_id)
    seconds = time.perf_counter() - start
    return LoadResult(
        election_id, True, rows, seconds, f"election {election_id}: loaded {rows['voters']:,} voters in {seconds:.1f}s"
    )
