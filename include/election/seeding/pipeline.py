"""The steps of `election_seed`, as plain functions: generate → validate → load → validate loaded → publish.

The DAG's tasks call these with connections from Airflow's hooks; the benchmark and the tests call them
with connections of their own. Each step logs what it did and how fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import pandas as pd
import psycopg
from airflow.sdk import ObjectStoragePath
from confluent_kafka import Producer

from election import elections
from election.avatars import avatar_url_parts
from election.progress import Progress
from election.quality.connection import LendableConnection
from election.seeding.load import LoadResult, load_seed
from election.seeding.publish import PublishResult, publish_election
from election.seeding.staging import SeedRequest, StagedSeed, stage
from election.sql import read_sql

log = logging.getLogger(__name__)


def generate_step(request: SeedRequest, staging: ObjectStoragePath | Path) -> StagedSeed:
    """The frames of `request`, generated and staged (or found staged) under `staging`: a URL's
    ObjectStoragePath, or a local folder."""
    start = time.perf_counter()
    staged, generated = stage(request, staging)
    elapsed = time.perf_counter() - start
    if generated:
        log.info(
            "generated %s voters and %d candidates in %.2fs (%s voters/s) into %s",
            f"{request.num_voters:,}",
            request.num_candidates,
            elapsed,
            f"{request.num_voters / elapsed:,.0f}",
            staged.directory,
        )
    else:
        log.info("reusing the frames already staged in %s", staged.directory)
    return staged


def with_derived_columns(voters: pd.DataFrame, election_date: dt.date) -> pd.DataFrame:
    """The voters frame with the derived columns the voters suite checks, as `sql/seed/loaded_voters.sql` derives
    them from the loaded rows: whole years on election day, and the voter's own avatar URL."""
    picture_prefix, picture_suffix = avatar_url_parts("voters")
    born = pd.to_datetime(voters["date_of_birth"])
    before_birthday = (born.dt.month > election_date.month) | (
        (born.dt.month == election_date.month) & (born.dt.day > election_date.day)
    )
    return voters.assign(
        age_on_election_day=election_date.year - born.dt.year - before_birthday.astype(int),
        own_picture=picture_prefix + voters["voter_id"] + picture_suffix,
    )


def validate_generated_step(staged: StagedSeed) -> list[str]:
    """Run the suites on the staged frames; raise DataQualityError (with every failure) before any load."""
    from election.quality import suites
    from election.quality.validation import DataQualityError, validate_frame

    start = time.perf_counter()
    parties = staged.frame("parties")
    reports = [
        validate_frame(suites.parties_suite(), parties, "generated parties"),
        validate_frame(
            suites.candidates_suite(parties["party_id"].astype(int).tolist()),
            staged.frame("candidates"),
            "generated candidates",
        ),
        validate_frame(
            suites.voters_suite(),
            with_derived_columns(staged.frame("voters"), staged.request.election_date),
            "generated voters",
        ),
    ]
    return _conclude(reports, start, DataQualityError)


def load_step(conn: LendableConnection, staged: StagedSeed, *, name: str, seed_run: str | None = None) -> LoadResult:
    """A new election with the staged frames, committed only if the post-load checks pass (`validate_loaded`)."""
    totals = {
        "parties": staged.request.num_candidates,
        "candidates": staged.request.num_candidates,
        "voters": staged.request.num_voters,
    }
    progress = {table: Progress(log, f"COPY {table}", total) for table, total in totals.items()}

    def check(loading: psycopg.Connection, election_id: int) -> None:
        for table, rows in totals.items():
            progress[table].update(rows, force=True)
        validate_loaded(conn, staged.request)

    result = load_seed(
        conn,
        staged,
        name=name,
        seed_run=seed_run,
        check=check,
        progress=lambda table, rows: progress[table].update(rows),
    )
    log.info("%s", result.message)
    return result


def validate_loaded(conn: LendableConnection, request: SeedRequest) -> list[str]:
    """The suites' rules on the rows just loaded (run as SQL inside the load's transaction, before it commits),
    but those the tables' constraints enforce, plus the row counts. Raises DataQualityError: the load then rolls
    back."""
    from election.quality import suites
    from election.quality.validation import DataQualityError, validate_query

    start = time.perf_counter()
    parties = read_sql("seed/loaded_parties.sql")
    party_ids = [row[0] for row in conn.execute(f"SELECT party_id FROM ({parties}) loaded").fetchall()]
    checks = [
        ("parties", suites.parties_suite(), request.num_candidates),
        ("candidates", suites.candidates_suite(party_ids), request.num_candidates),
        ("voters", suites.voters_suite(), request.num_voters),
    ]
    reports = [
        validate_query(
            suites.loaded_suite(table, suite, rows), conn, read_sql(f"seed/loaded_{table}.sql"), f"{table} table"
        )
        for table, suite, rows in checks
    ]
    return _conclude(reports, start, DataQualityError)


def publish_step(
    conn: psycopg.Connection, producer: Producer, election_id: int, candidates_topic: str, voters_topic: str
) -> PublishResult:
    election = elections.require(conn, election_id)
    progress = Progress(log, f"publish to {voters_topic}", election.num_voters)
    result = publish_election(
        conn,
        producer,
        election_id,
        candidates_topic=candidates_topic,
        voters_topic=voters_topic,
        progress=progress.update,
    )
    if result.published:
        progress.done(result.voters)
    log.info("%s", result.message)
    return result


def _conclude(reports: list, start: float, error: type[Exception]) -> list[str]:
    summaries = [report.summary() for report in reports]
    for summary in summaries:
        log.info("%s", summary)
    log.info("validated in %.2fs", time.perf_counter() - start)
    failed = [report for report in reports if not report.success]
    if failed:
        raise error("data-quality gate failed:\n" + "\n".join(report.summary() for report in failed))
    return summaries
