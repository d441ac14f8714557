"""Rows out of PostgreSQL into Arrow fast: `COPY (query) TO STDOUT (FORMAT csv, HEADER)`, read by Arrow's
streaming CSV reader (C++; no Python object per field), one record batch at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv


class _CopyStream(io.RawIOBase):
    """The bytes of a COPY ... TO STDOUT, as a file Arrow can read."""

    def __init__(self, copy: psycopg.Copy) -> None:
        self._copy, self._pending = copy, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._copy.read()
            if not chunk:
                return 0
            self._pending = memoryview(bytes(chunk))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


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
