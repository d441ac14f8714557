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
from confluent_kafka import Producer

from election.progress import Progress
from election.seeding.load import LoadResult, load_seed
from election.seeding.publish import PublishResult, publish_seed
from election.seeding.staging import SeedRequest, StagedSeed, stage
from election.sql import read_sql

log = logging.getLogger(__name__)


def generate_step(request: SeedRequest, staging_dir: Path) -> StagedSeed:
    start = time.perf_counter()
    staged, generated = stage(request, staging_dir)
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


def with_age_on_election_day(voters: pd.DataFrame, election_date: dt.date) -> pd.DataFrame:
    """The voters frame with the derived column the voters suite checks (whole years on election day)."""
    born = pd.to_datetime(voters["date_of_birth"])
    before_birthday = (born.dt.month > election_date.month) | (
        (born.dt.month == election_date.month) & (born.dt.day > election_date.day)
    )
    return voters.assign(age_on_election_day=election_date.year - born.dt.year - before_birthday.astype(int))


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
            with_age_on_election_day(staged.frame("voters"), staged.request.election_date),
            "generated voters",
        ),
    ]
    return _conclude(reports, start, DataQualityError)


def load_step(conn: psycopg.Connection, staged: StagedSeed) -> LoadResult:
    totals = {
        "parties": staged.request.num_candidates,
        "candidates": staged.request.num_candidates,
        "voters": staged.request.num_voters,
    }
    progress = {name: Progress(log, f"COPY {name}", total) for name, total in totals.items()}
    result = load_seed(conn, staged, progress=lambda table, rows: progress[table].update(rows))
    if result.loaded:
        for name, rows in result.rows.items():
            progress[name].update(rows, force=True)
    log.info("%s", result.message)
    return result


def validate_loaded_step(conn: psycopg.Connection, sqlalchemy_url: str, request: SeedRequest) -> list[str]:
    """The same suites on the loaded tables (run as SQL), plus row counts and referential integrity."""
    from election.quality import suites
    from election.quality.validation import DataQualityError, validate_query

    start = time.perf_counter()
    party_ids = [row[0] for row in conn.execute("SELECT party_id FROM parties").fetchall()]
    loaded = read_sql("seed/loaded_voters.sql")
    reports = [
        validate_query(suites.parties_suite(), sqlalchemy_url, "SELECT * FROM parties", "parties table"),
        validate_query(
            suites.candidates_suite(party_ids),
            sqlalchemy_url,
            read_sql("seed/loaded_candidates.sql"),
            "candidates table",
        ),
        validate_query(suites.voters_suite(), sqlalchemy_url, loaded, "voters table"),
        validate_query(
            suites.loaded_table_suite("parties", request.num_candidates),
            sqlalchemy_url,
            "SELECT * FROM parties",
            "parties table (counts)",
        ),
        validate_query(
            suites.loaded_table_suite("candidates", request.num_candidates),
            sqlalchemy_url,
            "SELECT * FROM candidates",
            "candidates table (counts, references)",
        ),
        validate_query(
            suites.loaded_table_suite("voters", request.num_voters),
            sqlalchemy_url,
            "SELECT * FROM voters",
            "voters table (counts, references)",
        ),
    ]
    return _conclude(reports, start, DataQualityError)


def publish_step(
    conn: psycopg.Connection, producer: Producer, staged: StagedSeed, candidates_topic: str, voters_topic: str
) -> PublishResult:
    progress = Progress(log, f"publish to {voters_topic}", staged.request.num_voters)
    result = publish_seed(
        conn,
        producer,
        staged,
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
