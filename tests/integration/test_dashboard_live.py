"""The dashboard on real services: the shared Kafka feed on scratch topics, then the running dashboard of the
local stack, in headless Chromium, over a real election (seeded, votes cast, aggregated by the Spark job)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from browser import local_only_page, screenshot
from support import create_topics, delete_topics, reset_platform, seed_and_publish

from dashboard.data import AggregateFeed
from election.config import Settings
from election.kafka_io import produce_all, reliable_producer
from election.streaming.submit import spark_environment, spark_submit_command

pytestmark = pytest.mark.timeout(900)

DIMENSIONS = ("candidate", "party", "state", "demographic", "minute")


@pytest.fixture
def scratch_topics(settings: Settings):
    prefix = f"test_dash_{uuid.uuid4().hex[:8]}_"
    topics = {dimension: prefix + dimension for dimension in (*DIMENSIONS, "dead_letter")}
    create_topics(settings, dict.fromkeys(topics.values(), 1))
    yield topics
    delete_topics(settings, list(topics.values()))


def _candidate(cid: str, votes: int) -> tuple[str, bytes]:
    value = {"candidate_id": cid, "candidate_name": cid, "party": "P", "photo_url": "", "total_votes": votes}
    return cid, json.dumps({**value, "updated_at": "2026-11-03T10:00:00.000Z"}).encode()


def _feed(settings: Settings, topics: dict[str, str]) -> AggregateFeed:
    return AggregateFeed(
        kafka_config=settings.kafka_client_config(),
        topics={d: topics[d] for d in DIMENSIONS},
        dead_letter_topic=topics["dead_letter"],
        min_refresh_seconds=0,
    )


def _votes(state) -> dict[str, int]:
    frame = state.frames["candidate"]
    return dict(zip(frame["candidate_id"], frame["total_votes"], strict=True))


def test_the_feed_keeps_the_latest_value_per_key_and_reads_only_what_is_new(settings: Settings, scratch_topics) -> None:
    producer = reliable_producer(settings.kafka_client_config())
    produce_all(producer, scratch_topics["candidate"], [_candidate("a", 1), _candidate("b", 1), _candidate("a", 5)])
    produce_all(producer, scratch_topics["dead_letter"], [("x", b"{}"), ("y", b"{}")])
    feed = _feed(settings, scratch_topics)
    try:
        first = feed.refresh()
        assert first.error is None
        assert _votes(first) == {"a": 5, "b": 1}
        assert first.dead_letters == 2
        assert feed.refresh().frames is first.frames  # nothing new: nothing re-read, nothing rebuilt

        produce_all(producer, scratch_topics["candidate"], [_candidate("b", 7), _candidate("b", 7)])
        assert _votes(feed.refresh()) == {"a": 5, "b": 7}

        # A new election: the topic is re-created; the old values must not survive it.
        delete_topics(settings, [scratch_topics["candidate"]])
        create_topics(settings, {scratch_topics["candidate"]: 1})
        produce_all(producer, scratch_topics["candidate"], [_candidate("c", 1), _candidate("c", 2), _candidate("c", 3)])
        deadline = time.monotonic() + 30
        while _votes(state := feed.refresh()) != {"c": 3} and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _votes(state) == {"c": 3}
    finally:
        feed.close()


@pytest.fixture(scope="module")
def election_on_stack(settings: Settings) -> dict[str, object]:
    """2,000 voters, 60 % turnout, votes cast by the caster and aggregated by one bounded run of the Spark job,
    on the stack's own topics (the ones the running dashboard reads)."""
    reset_platform(settings)
    seed_and_publish(settings, voters=2_000, candidates=3, random_seed=61, voters_topic=settings.topics.voters)
    cast = subprocess.run(
        [sys.executable, "-m", "election.voting", "cast", "--turnout", "0.6", "--random-seed", "9"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cast.returncode == 0, cast.stderr[-3000:]
    job = subprocess.run(
        spark_submit_command(settings, "local[2]", available_now=True),
        capture_output=True,
        text=True,
        timeout=600,
        env=spark_environment(),
        check=False,
    )
    assert job.returncode == 0, job.stderr[-5000:]
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        total = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
        leader = conn.execute(
            "SELECT c.candidate_name FROM votes v JOIN candidates c USING (candidate_id) "
            "GROUP BY c.candidate_name ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    return {"total": total, "leader": leader}


def test_the_dashboard_in_chromium_shows_what_postgres_has(settings: Settings, election_on_stack) -> None:
    expected_total = f"{election_on_stack['total']:,}"
    with local_only_page(1400, 3000) as (page, blocked):
        page.goto(settings.dashboard_url, wait_until="domcontentloaded")
        votes = page.locator('[data-testid="stMetric"]', has_text="Votes cast").locator('[data-testid="stMetricValue"]')
        # the page refreshes every 2 s: wait until it has caught up with this election
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if votes.count() and votes.first.inner_text().strip() == expected_total:
                break
            page.wait_for_timeout(1000)
        assert votes.first.inner_text().strip() == expected_total
        leader = page.locator(".st-key-leader")
        assert re.search(rf"\b{re.escape(str(election_on_stack['leader']))}\b", leader.inner_text())
        assert "the stream is in step" in page.locator("body").inner_text()
        # every chart drawn (bar, donut, party, map, over time, demographics) before the screenshot
        page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 6")
        page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=20_000)
        path = screenshot(page, "dashboard.png")
    assert path.stat().st_size > 50_000
    assert blocked == []  # the page asked for nothing outside localhost


def test_the_read_only_connection_recovers_after_it_is_cut(settings: Settings) -> None:
    """The page keeps one connection; when PostgreSQL drops it (a restart), one refresh says so, the next
    reconnects."""
    from dashboard.data import ReadOnlyDatabase, SourceUnavailableError, read_reference
    from election.stack.postgres import Postgres

    database = ReadOnlyDatabase(settings)
    first = read_reference(database)
    assert not first.regions.empty
    with database.connection() as conn:
        backend = conn.info.backend_pid
    with Postgres(settings).superuser_connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    with pytest.raises(SourceUnavailableError, match="PostgreSQL is unreachable"):
        read_reference(database)
    assert read_reference(database).registered_voters == first.registered_voters
    database.close()
