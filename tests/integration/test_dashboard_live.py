"""The dashboard on real services: the shared Kafka feed on topics of its own, then the running dashboard of the
local stack, in headless Chromium, showing an election of the test's own (seeded, voted, counted by the stream)."""

from __future__ import annotations

import json
import re

import pytest
import support
from browser import local_only_page, screenshot
from conftest import drained

from dashboard.data import AggregateFeed
from election.config import Settings
from election.kafka_io import produce_all, reliable_producer

pytestmark = pytest.mark.timeout(900)

UPDATED = "2026-11-03T10:00:00.000Z"


def _candidate(election_id: int, cid: str, votes: int) -> tuple[str, bytes]:
    value = {"election_id": election_id, "candidate_id": cid, "candidate_name": cid, "party": "P", "photo_url": ""}
    return f"{election_id}:{cid}", json.dumps({**value, "total_votes": votes, "updated_at": UPDATED}).encode()


def _dead_letter(election_id: int | None, reason: str, offset: int) -> tuple[str, bytes]:
    value = {"election_id": election_id, "reason": reason, "payload": "x" * 900, "source_offset": offset}
    return f"votes_topic:0:{offset}", json.dumps(value).encode()


def _votes(state, election_id: int) -> dict[str, int]:
    frame = state.for_election(election_id).frames["candidate"]
    return dict(zip(frame["candidate_id"], frame["total_votes"], strict=True))


def test_the_feed_keeps_the_latest_value_per_key_and_election(settings: Settings) -> None:
    with support.scratch_topics(settings, "dash") as (_, topics):
        producer = reliable_producer(settings.kafka_client_config())
        produce_all(
            producer,
            topics.votes_per_candidate,
            [_candidate(1, "a", 1), _candidate(1, "b", 1), _candidate(1, "a", 5), _candidate(2, "a", 9)],
        )
        letters = [
            _dead_letter(1, "unknown_voter", 1),
            _dead_letter(1, "unknown_voter", 2),
            _dead_letter(None, "malformed", 3),
        ]
        produce_all(producer, topics.votes_dead_letter, [*letters, letters[0]])  # a replayed dead letter
        feed = AggregateFeed(
            kafka_config=settings.kafka_client_config(),
            topics=topics.by_dimension(),
            dead_letter_topic=topics.votes_dead_letter,
            min_refresh_seconds=0,
        )
        try:
            first = feed.refresh()
            assert first.error is None
            assert _votes(first, 1) == {"a": 5, "b": 1}
            assert _votes(first, 2) == {"a": 9}, "the same candidate id in another election is its own key"
            assert first.dead_letter_count == 3, "one per record, however often it was written"
            assert first.for_election(1).dead_letter_count == 2
            assert feed.refresh().frames is first.frames  # nothing new: nothing re-read, nothing rebuilt

            produce_all(producer, topics.votes_per_candidate, [_candidate(1, "b", 7), _candidate(1, "b", 7)])
            assert _votes(feed.refresh(), 1) == {"a": 5, "b": 7}
        finally:
            feed.close()


@pytest.fixture(scope="module")
def election_on_stack(settings: Settings, simulated_election) -> dict[str, object]:
    """The session's simulated election (2,000 voters, half of them voted through election_vote_simulation), every
    vote counted by the running stream: what the page must show."""
    election_id = simulated_election.election_id
    totals = drained(settings, election_id)
    with support.connect(settings) as conn:
        leader = conn.execute(
            "SELECT candidate_name FROM candidates WHERE election_id = %s AND candidate_id = %s",
            (election_id, max(totals, key=totals.get)),
        ).fetchone()[0]
    return {"election_id": election_id, "total": sum(totals.values()), "leader": leader}


def test_the_dashboard_in_chromium_shows_what_postgres_has(settings: Settings, election_on_stack) -> None:
    expected_total = f"{election_on_stack['total']:,}"
    with local_only_page(1400, 3000) as (page, blocked):
        page.goto(
            f"{settings.dashboard_url}/?election={election_on_stack['election_id']}", wait_until="domcontentloaded"
        )
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]'))"
            f".some(e => e.innerText.trim() === '{expected_total}')",
            timeout=90_000,
        )
        assert "simulated on the stack" in page.locator(".st-key-election-status").inner_text()
        assert "counting" in page.locator(".st-key-election-status").inner_text()
        leader = page.locator(".st-key-leader")
        assert re.search(rf"\b{re.escape(str(election_on_stack['leader']))}\b", leader.inner_text())
        assert "the stream is in step" in page.locator("body").inner_text()
        # every chart drawn (bar, donut, party, map, over time, demographics) before the screenshot
        page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 6")
        page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=20_000)
        path = screenshot(page, "dashboard.png")
    assert path.stat().st_size > 50_000
    assert blocked == []  # the page asked for nothing outside localhost


def test_the_read_only_connection_recovers_after_it_is_cut(settings: Settings, election_on_stack) -> None:
    """The page keeps one connection; when PostgreSQL drops it (a restart), one refresh says so, the next
    reconnects."""
    from dashboard.data import ReadOnlyDatabase, SourceUnavailableError, read_reference
    from localstack.postgres import Postgres

    election_id = election_on_stack["election_id"]
    database = ReadOnlyDatabase(settings)
    first = read_reference(database, election_id)
    assert first.registered_voters == 2_000
    with database.connection() as conn:
        backend = conn.info.backend_pid
    with Postgres(settings).superuser_connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    with pytest.raises(SourceUnavailableError, match="PostgreSQL is unreachable"):
        read_reference(database, election_id)
    assert read_reference(database, election_id).registered_voters == first.registered_voters
    database.close()
