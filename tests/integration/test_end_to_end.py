"""A whole election as a user runs it, through Airflow's REST API (the demo's own code): schema → seed →
streaming → vote simulation, then the numbers checked everywhere they show: the compacted topics against
PostgreSQL, the task logs through the API, the dashboard and the Airflow UI in headless Chromium."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from browser import local_only_page, screenshot
from support import reset_platform, stream_processes

from election.compacted import latest_values
from election.config import Settings
from election.demo import DAG_IDS, Demo, DemoRequest, connect, results_table
from election.stack.airflow import admin_password

pytestmark = pytest.mark.timeout(1500)

REQUEST = DemoRequest(voters=2_000, candidates=3, turnout=0.7, votes_per_second=400, random_seed=77)
VOTES = round(REQUEST.voters * REQUEST.turnout)


@pytest.fixture(scope="module")
def election(settings: Settings):
    """The election, run once; the streaming run is stopped (marked success, as a user ends it) at the end."""
    reset_platform(settings)
    demo = Demo(settings, connect(settings))
    demo.prepare()
    demo.schema_and_seed(REQUEST)
    stream_run = demo.start_stream()
    try:
        demo.simulate(REQUEST)
        results = demo.wait_for_drain()
        print(results_table(results))
        yield demo, results
    finally:  # a failing test still leaves no stream behind (test_the_stream_stops_cleanly asserts it)
        if demo.api.task_state("election_streaming", stream_run, "aggregate_votes") == "running":
            stop_stream(demo, stream_run)


def stop_stream(demo: Demo, run_id: str) -> str:
    """What a user does to end the stream: mark the running task success. The run's final state."""
    demo.api.mark_task("election_streaming", run_id, "aggregate_votes", "success")
    state = demo.api.wait_for_run("election_streaming", run_id, timeout=120)
    deadline = time.monotonic() + 60
    while stream_processes() and time.monotonic() < deadline:
        time.sleep(1)
    return state


def test_every_dag_run_succeeds(election) -> None:
    demo, _ = election
    for dag_id in ("election_schema", "election_seed", "election_vote_simulation"):
        assert demo.api.run_state(dag_id, demo.runs.run_ids[dag_id]) == "success"
    streaming = demo.runs.run_ids["election_streaming"]
    assert demo.api.task_state("election_streaming", streaming, "aggregate_votes") == "running"


def test_the_streamed_totals_equal_postgres_exactly(settings: Settings, election) -> None:
    with psycopg.connect(settings.election_db.conninfo()) as conn:
        recorded = dict(conn.execute("SELECT candidate_id::text, count(*) FROM votes GROUP BY 1").fetchall())
    assert sum(recorded.values()) == VOTES
    streamed = latest_values(settings.kafka_client_config(), settings.topics.votes_per_candidate)
    assert {key: value["total_votes"] for key, value in streamed.items()} == recorded
    states = latest_values(settings.kafka_client_config(), settings.topics.turnout_by_location)
    assert sum(value["total_votes"] for value in states.values()) == VOTES
    parties = latest_values(settings.kafka_client_config(), settings.topics.votes_per_party)
    assert sum(value["total_votes"] for value in parties.values()) == VOTES
    assert latest_values(settings.kafka_client_config(), settings.topics.votes_dead_letter) == {}


def test_every_task_log_is_readable_through_the_api(election) -> None:
    demo, _ = election
    expected = {
        "election_schema": {"migrate_schema": "Running statement"},
        "election_seed": {"load": "loaded 2,000 voters"},
        "election_streaming": {"aggregate_votes": "[progress] vote_aggregation"},
        "election_vote_simulation": {
            "wait_for_voters": "",
            "wait_for_stream": "stream heartbeat",
            "cast_votes": f"{VOTES:,} votes cast",
        },
    }
    for dag_id, tasks in expected.items():
        run_id = demo.runs.run_ids[dag_id]
        for task_id, text in tasks.items():
            log = demo.api.task_log(dag_id, run_id, task_id)
            assert log.strip(), f"{dag_id}.{task_id} has an empty log"
            assert text in log, f"{dag_id}.{task_id}: {text!r} not in its log:\n{log[-2000:]}"


def test_the_dashboard_shows_the_same_leader_and_total(settings: Settings, election) -> None:
    _, results = election
    with local_only_page(1400, 3000) as (page, blocked):
        page.goto(settings.dashboard_url, wait_until="domcontentloaded")
        votes = page.locator('[data-testid="stMetric"]', has_text="Votes cast").locator('[data-testid="stMetricValue"]')
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (votes.count() and votes.first.inner_text().strip() == f"{VOTES:,}"):
            page.wait_for_timeout(1000)
        assert votes.first.inner_text().strip() == f"{VOTES:,}"
        assert results[0]["candidate"] in page.locator(".st-key-leader").inner_text()
        page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 6")
        screenshot(page, "e2e-dashboard.png")
    assert blocked == []


def test_the_airflow_ui_lists_the_four_dags_after_login(settings: Settings, election) -> None:
    with local_only_page(1400, 900) as (page, blocked):
        page.goto(f"{settings.airflow_url}/", wait_until="domcontentloaded")
        page.fill('input[name="username"]', settings.airflow_admin_user)
        page.fill('input[name="password"]', admin_password(settings))
        page.click('button[type="submit"]')
        page.wait_for_url(lambda url: "/auth/login" not in url)
        page.goto(f"{settings.airflow_url}/dags", wait_until="domcontentloaded")
        for dag_id in DAG_IDS:
            page.get_by_text(dag_id, exact=True).first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        path = screenshot(page, "airflow-dags.png")
    assert path.stat().st_size > 20_000
    assert blocked == [], json.dumps(blocked)


def test_the_stream_stops_cleanly(election) -> None:
    """Last: the streaming run, running until now, ends in success with no spark-submit or driver left."""
    demo, _ = election
    assert stop_stream(demo, demo.runs.run_ids["election_streaming"]) == "success"
    assert stream_processes() == []
