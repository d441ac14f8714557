"""Load the staged seed into PostgreSQL: one transaction, COPY, all or nothing, idempotent.

- The tables are empty: parties, candidates and voters are COPYed and the registry row written, in one
  transaction. A crash or a failed constraint rolls everything back: nothing half-loaded is ever visible.
- The registry already holds this very request: nothing to do (a re-run is a no-op, not an error).
- The registry holds a different request: refused with a clear message (one election per database).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql

from election.seeding.staging import SeedRequest, StagedSeed
from election.sql import read_sql

log = logging.getLogger(__name__)

COPY_BATCH_ROWS = 100_000


class SeedConflictError(RuntimeError):
    """The database already holds a different election than the one requested."""


@dataclass(frozen=True)
class LoadResult:
    loaded: bool
    rows: dict[str, int]
    seconds: float
    message: str


def registry(conn: psycopg.Connection) -> dict | None:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(read_sql("seed/registry_select.sql")).fetchone()


def same_request(row: dict, request: SeedRequest) -> bool:
    return (row["random_seed"], row["num_voters"], row["num_candidates"], row["election_date"]) == (
        request.random_seed,
        request.num_voters,
        request.num_candidates,
        request.election_date,
    )


def _copy_table(
    conn: psycopg.Connection, table_name: str, source: pq.ParquetFile, progress: Callable[[str, int], None]
) -> int:
    """COPY a staged table in CSV chunks (Arrow's C++ CSV writer; no Python loop over rows)."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in source.schema_arrow.names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(table_name), columns)
    done = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in source.iter_batches(COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
            copy.write(buffer.getbuffer())
            done += batch.num_rows
            progress(table_name, done)
    return done


def load_seed(
    conn: psycopg.Connection, staged: StagedSeed, progress: Callable[[str, int], None] | None = None
) -> LoadResult:
    """Load the staged frames in one transaction (the caller's connection must not be in autocommit)."""
    start = time.perf_counter()
    request = staged.request
    progress = progress or (lambda table, rows: None)
    with conn.transaction():
        conn.execute(read_sql("seed/seed_lock.sql"))
        existing = registry(conn)
        if existing is not None:
            if same_request(existing, request):
                return LoadResult(
                    False, {}, time.perf_counter() - start, f"already loaded ({request.key}): nothing to do"
                )
            raise SeedConflictError(
                f"the database already holds another election (seed {existing['random_seed']}, "
                f"{existing['num_voters']:,} voters, {existing['num_candidates']} candidates, "
                f"election day {existing['election_date']}); this run asked for {request.key}. "
                "One election per database: start from an empty schema (e.g. `make clean && make up`)."
            )
        parties, candidates, voters = conn.execute(read_sql("seed/table_counts.sql")).fetchone()
        if parties or candidates or voters:
            raise SeedConflictError(
                f"parties/candidates/voters already hold rows ({parties}/{candidates}/{voters}) that no seed "
                "run registered; refusing to mix them with a new seed."
            )
        rows = {
            name: _copy_table(conn, name, pq.ParquetFile(staged.path(name)), progress)
            for name in ("parties", "candidates", "voters")  # in order of their references
        }
        conn.execute(read_sql("seed/registry_insert.sql"), request.as_dict())
    seconds = time.perf_counter() - start
    return LoadResult(True, rows, seconds, f"loaded {rows['voters']:,} voters in {seconds:.1f}s")
