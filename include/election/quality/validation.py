"""Run an expectation suite on a frame or on a query of the election database, and report readably.

A failed suite raises `DataQualityError` whose message lists, per failed expectation, which expectation on
which column, how many rows broke it, and a few of the offending values: what a user reads in the task log.

Queries are validated *inside the caller's open transaction*: the seed checks the rows it loaded before it
commits them, so an election that fails its checks is never visible to anyone. Great Expectations runs SQL
through a SQLAlchemy engine of its own; it is handed the caller's connection (a `LendableConnection`), whose
transaction stays the caller's while it is lent (SQLAlchemy's own commits, rollbacks and closes are ignored).
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from sqlalchemy.pool import StaticPool

from election.quality.connection import LendableConnection

# Great Expectations sends usage analytics to its servers unless told not to; nothing here may reach the
# internet. Must be set before great_expectations is imported.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# GX logs its internals at INFO, from its import on (decorator registration, datasource loading): noise in
# a task log, where the suites' own summaries are what a user wants to read.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

import great_expectations as gx  # noqa: E402 - after the analytics switch above
import great_expectations.execution_engine.pandas_execution_engine as _pandas_engine  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

SAMPLE_SIZE = 5

# GX fingerprints every in-memory batch below this size by hashing the whole frame, twice per validation:
# 10 s of a 14 s validation of a million voters. The fingerprint only names the batch; nothing here uses it.
_pandas_engine.HASH_THRESHOLD = 0


class DataQualityError(Exception):
    """A suite failed: the message is the readable summary."""


@dataclass
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    sample: list[Any]
    observed: Any = None
    description: str | None = None
    error: str | None = None

    def describe(self) -> str:
        what = self.description or self.expectation
        where = f" on column {self.column!r}" if self.column else ""
        if self.unexpected_count is not None:
            total = f" of {self.element_count:,}" if self.element_count is not None else ""
            detail = f": {self.unexpected_count:,}{total} rows fail"
        elif self.observed is not None:
            detail = f": observed {self.observed}"
        else:
            detail = ""
        sample = f"; e.g. {self.sample}" if self.sample else ""
        error = f"; could not be evaluated: {self.error}" if self.error else ""
        return f"{what}{where}{detail}{sample}{error}"


@dataclass
class Report:
    suite: str
    target: str
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        head = f"{self.suite} on {self.target}: {self.evaluated - len(self.failures)}/{self.evaluated} passed"
        return "\n".join([head, *(f"  FAILED {f.describe()}" for f in self.failures)])

    def raise_on_failure(self) -> Report:
        if not self.success:
            raise DataQualityError(self.summary())
        return self


def _validate(batch: Any, suite: gx.ExpectationSuite, target: str) -> Report:
    """Validate in two passes: pass/fail of every expectation (one scan each, nothing else computed),
    then, only for the failures, the counts and sample values the summary shows."""
    quick = batch.validate(suite, result_format="BOOLEAN_ONLY")
    report = Report(suite=suite.name, target=target, evaluated=len(quick.results))
    failed = [outcome.expectation_config for outcome in quick.results if not outcome.success]
    if not failed:
        return report
    detail_suite = gx.ExpectationSuite(name=suite.name, expectations=[c.to_domain_obj() for c in failed])
    detailed = batch.validate(detail_suite, result_format="SUMMARY")
    for outcome in detailed.results:
        config = outcome.expectation_config
        details = outcome.result or {}
        sample = details.get("partial_unexpected_list") or details.get("details", {}).get("unexpected_rows") or []
        report.failures.append(
            Failure(
                expectation=config.type,
                column=config.kwargs.get("column"),
                unexpected_count=details.get("unexpected_count"),
                element_count=details.get("element_count"),
                sample=[_plain(v) for v in list(sample)[:SAMPLE_SIZE]],
                observed=details.get("observed_value"),
                description=config.description,
                error=_exception_message(outcome.exception_info),
            )
        )
    return report


def _exception_message(info: dict | None) -> str | None:
    """GX reports exceptions either flat or keyed by metric; find the first message in either form."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value if isinstance(value, (int, float, str, type(None))) else str(value)


def _context() -> Any:
    """An in-memory context: no files, no analytics, no progress bars cluttering the task log."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gx.get_context(mode="ephemeral", project_config=config)


def validate_frame(suite: gx.ExpectationSuite, frame: pd.DataFrame, target: str) -> Report:
    """Validate an in-memory frame (the generated data, before it is loaded)."""
    # GX checks `between` bounds vectorised only on a column whose dtype equals Python's int or float (int64,
    # float64); any other width goes through a Python call per row (~1 s for a million int32 ages). Widened here,
    # for the validation only: the values are the same.
    narrow = {
        column: "int64"
        for column, dtype in frame.dtypes.items()
        if isinstance(dtype, np.dtype) and dtype.kind == "i" and dtype.itemsize < 8
    }
    frame = frame.astype(narrow) if narrow else frame
    context = _context()
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset(target)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    # GX matches a regex as `column.astype(str).str.contains(regex)`: with pandas' default that turns Arrow strings
    # into Python objects and runs Python's `re` row by row; with pandas 3's string type (opted into here, for the
    # validation only) the strings stay in Arrow and its RE2 engine matches them, several times faster. The
    # suites' patterns mean the same in RE2 and in PostgreSQL.
    with pd.option_context("future.infer_string", True):
        return _validate(batch, suite, target)


# GX requires a well-formed URL; the engine never connects with it (the `creator` hands it the lent connection).
_LENT_URL = "postgresql+psycopg://lent@localhost/election"


def validate_query(suite: gx.ExpectationSuite, conn: LendableConnection, query: str, target: str) -> Report:
    """Validate the rows of a query, as SQL in PostgreSQL, inside `conn`'s open transaction (uncommitted rows
    included).

    GX sees the query as a temporary view, created and dropped inside that transaction: it reads a view's columns
    from the catalog, whereas for a query given as text it runs the whole query once just to learn them (every
    loaded row fetched for nothing)."""
    context = _context()
    view = f"gx_{uuid.uuid4().hex}"
    conn.execute(sql.SQL("CREATE TEMPORARY VIEW {} AS {}").format(sql.Identifier(view), sql.SQL(query)))
    try:
        with conn.lent():
            source = context.data_sources.add_postgres(
                "election",
                connection_string=_LENT_URL,
                kwargs={"creator": lambda: conn, "poolclass": StaticPool},
                create_temp_table=False,
            )
            try:
                asset = source.add_table_asset(target, table_name=view)
                batch = asset.add_batch_definition_whole_table("all").get_batch()
                return _validate(batch, suite, target)
            finally:
                # Released now, while the connection is lent: an engine left to the garbage collector would close
                # it for real later, in the middle of its owner's transaction.
                source.get_execution_engine().engine.dispose()
    finally:
        # A failed statement aborted the transaction: it rolls back, the view with it (and a DROP now would hide
        # the failure behind "current transaction is aborted").
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(view)))
