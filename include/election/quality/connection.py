"""A PostgreSQL connection whose open transaction can be lent to a library that brings its own SQLAlchemy engine.

The seed checks the rows it loaded with Great Expectations *before* committing them. GX runs its SQL through a
SQLAlchemy engine; given this connection (via `creator=`), it runs inside the load's transaction and sees the
uncommitted rows. SQLAlchemy ends what it believes are its own transactions (a rollback when it first connects,
when a connection returns to its pool); while the connection is lent, those calls are ignored, so the
transaction, and the decision to commit or roll it back, stay with the code that opened it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class LendableConnection(psycopg.Connection):
    """A psycopg connection whose open transaction can be lent to Great Expectations' SQLAlchemy engine.

    While lent (`with conn.lent():`), the borrower's commit, rollback and close do nothing: the transaction, and
    the decision to commit or roll it back, stay with the code that opened it. Open one with
    `LendableConnection.connect(conninfo)`.
    """

    _lent = False

    @contextmanager
    def lent(self) -> Iterator[LendableConnection]:
        self._lent = True
        try:
            yield self
        finally:
            self._lent = False

    def commit(self) -> None:
        if not self._lent:
            super().commit()

    def rollback(self) -> None:
        if not self._lent:
            super().rollback()

    def close(self) -> None:
        if not self._lent:
            super().close()
