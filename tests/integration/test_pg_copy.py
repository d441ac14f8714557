"""election.pg_copy against the real PostgreSQL: rows out of `COPY ... TO STDOUT` arrive in Arrow exactly as the
query made them, whether a row is a few bytes or larger than the reader's buffer, quoted, multi-line or NULL.
Nothing is written: the rows come from generate_series."""

from __future__ import annotations

import hashlib

import psycopg
import pyarrow as pa

from election.config import Settings
from election.pg_copy import copy_table

SCHEMA = pa.schema([pa.field("n", pa.int64(), False), pa.field("s", pa.string())])

# Every 1000th row is 1.6 MB, the others a few bytes: 29 MB in all, more than one of Arrow's 16 MB reads, so rows
# straddle the reads' ends (one part in each) and many rows go to one read. Every 11th holds a line break, a comma
# and quotes (CSV quoting); every 7th is NULL.
ROWS = """
COPY (
    SELECT g AS n,
           CASE WHEN g %% 7 = 0 THEN NULL
                WHEN g %% 11 = 0 THEN 'line' || chr(10) || 'break, "quoted" ' || g
                ELSE repeat(md5(g::text), CASE WHEN g %% 1000 = 0 THEN 50000 ELSE 1 + g %% 5 END)
           END AS s
    FROM generate_series(1, %(rows)s) AS g
    ORDER BY g
) TO STDOUT (FORMAT csv, HEADER true)
"""


def _expected(rows: int) -> pa.Table:
    def value(g: int) -> str | None:
        if g % 7 == 0:
            return None
        if g % 11 == 0:
            return f'line\nbreak, "quoted" {g}'
        digest = hashlib.md5(str(g).encode(), usedforsecurity=False).hexdigest()
        return digest * (50_000 if g % 1000 == 0 else 1 + g % 5)

    numbers = range(1, rows + 1)
    return pa.table({"n": list(numbers), "s": [value(g) for g in numbers]}, schema=SCHEMA)


def test_rows_small_large_quoted_and_null_arrive_exactly(settings: Settings) -> None:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        table = copy_table(conn, ROWS, {"rows": 20_000}, SCHEMA)
    expected = _expected(20_000)
    assert table.num_rows == 20_000
    assert expected["s"].nbytes > 16 << 20  # more than one of Arrow's reads
    assert table.equals(expected)


def test_no_rows_give_an_empty_table_of_the_schema(settings: Settings) -> None:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        table = copy_table(conn, ROWS, {"rows": 0}, SCHEMA)
    assert table.num_rows == 0
    assert table.schema == SCHEMA
