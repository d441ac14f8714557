"""Rows out of PostgreSQL into Arrow fast: `COPY (query) TO STDOUT (FORMAT csv, HEADER)`, read by Arrow's
streaming CSV reader (C++; no Python object per field), one record batch at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv


class _CopyStream(io.RawIOBase):
    """The bytes of a COPY ... TO STDOUT, as a file Arrow can read.

    PostgreSQL sends one message per row, and psycopg hands them over one at a time: each read fills the caller's
    buffer with as many rows as fit (one call per read Arrow makes, not one per row), the rest of a row kept for
    the next.
    """

    def __init__(self, copy: psycopg.Copy) -> None:
        self._copy, self._pending = copy, None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        size, filled, pending, read = len(view), 0, self._pending, self._copy.read
        while True:
            if not pending:
                pending = read()
                if not pending:
                    break
            end = filled + len(pending)
            if end > size:  # the buffer is full: the rest of this row waits for the next call
                view[filled:] = pending[: size - filled]
                pending, filled = pending[size - filled :], size
                break
            view[filled:end] = pending
            filled, pending = end, None
        self._pending = pending
        return filled


def copy_batches(
    conn: psycopg.Connection,
    statement: str,
    params: Mapping[str, object] | None,
    column_types: Mapping[str, pa.DataType],
) -> Iterator[pa.RecordBatch]:
    """The rows of a `COPY (...) TO STDOUT (FORMAT csv, HEADER true)` statement, typed as `column_types` says."""
    with conn.cursor() as cur, cur.copy(statement, params) as copy:
        reader = pacsv.open_csv(
            io.BufferedReader(_CopyStream(copy), 1 << 20),
            read_options=pacsv.ReadOptions(block_size=16 << 20),
            convert_options=pacsv.ConvertOptions(column_types=dict(column_types), strings_can_be_null=True),
        )
        yield from reader


def copy_table(
    conn: psycopg.Connection, statement: str, params: Mapping[str, object] | None, schema: pa.Schema
) -> pa.Table:
    """All the rows of a COPY statement as one table of `schema` (an empty one when there is none)."""
    types = {field.name: field.type for field in schema}
    batches = list(copy_batches(conn, statement, params, types))
    return pa.Table.from_batches(batches).cast(schema) if batches else schema.empty_table()
