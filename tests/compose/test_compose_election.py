"""A whole election through docker-compose.yaml, as a user runs it: every DAG triggered through Airflow's REST API
(schema, seed, the stream, the simulation, certification) on the Compose services, the counts of the stream equal
to PostgreSQL's, the dashboard answering."""

from __future__ import annotations

import urllib.request

import psycopg
import pytest

from election import demo
from election.config import Settings

pytestmark = pytest.mark.timeout(3600)

REQUEST = demo.DemoRequest(
    voters=800,
    candidates=3,
    turnout=0.5,
    votes_per_second=0,
    reporting_order="random",
    random_seed=15,
    name="compose test",
)


def test_an_election_runs_through_compose(compose_settings: Settings) -> None:
    election_id, results = demo.run(compose_settings, REQUEST)

    assert len(results) == REQUEST.candidates
    assert sum(row["recorded"] for row in results) == round(REQUEST.voters * REQUEST.turnout)
    assert [row["streamed"] for row in results] == [row["recorded"] for row in results]
    with psycopg.connect(compose_settings.election_db.conninfo()) as conn:
        (status,) = conn.execute("SELECT status FROM elections WHERE election_id = %s", (election_id,)).fetchone()
    assert status == "certified"


def test_the_dashboard_answers(compose_settings: Settings) -> None:
    with urllib.request.urlopen(f"{compose_settings.dashboard_url}/_stcore/health", timeout=30) as response:  # noqa: S310
        assert response.read().decode().strip() == "ok"
    with urllib.request.urlopen(compose_settings.dashboard_url, timeout=30) as response:  # noqa: S310
        assert response.status == 200
        assert "<title>Streamlit</title>" in response.read().decode()
