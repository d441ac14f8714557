"""Two elections side by side, as a user runs them, through Airflow's REST API (the demo's own code), on one running
stack with no reset in between: seed A, stream, simulate A; seed B while the stream keeps running, simulate B;
certify both. Then the numbers checked everywhere they show: the compacted topics against PostgreSQL per election,
the statuses, every DAG run of the stack, the task logs through the API, the dashboard and the Airflow UI in
headless Chromium."""

from __future__ import annotations

import json
import re

import pytest
import support
from browser import local_only_page, screenshot
from conftest import drained

from election import elections
from election.config import Settings
from election.demo import DAG_IDS, Demo, DemoRequest, admin_login, results_table

pytestmark = pytest.mark.timeout(1800)

A = DemoRequest(voters=1_201, candidates=3, turnout=0.7, votes_per_second=300, random_seed=77, name="e2e A")
B = DemoRequest(voters=2_003, candidates=4, turnout=0.6, votes_per_second=0, random_seed=78, name="e2e B")


def expected_votes(request: DemoRequest) -> int:
    return round(request.voters * request.turnout)


@pytest.fixture(scope="module")
def two_elections(settings: Settings, api, stream):
    """Both elections, run once; every DAG run of the stack from the start of it on is checked afterwards."""
    started = support.utc_now()
    demo = Demo(settings, api)
    demo.prepare()
    demo.schema()
    a = demo.seed(A)
    support.CREATED.append(a)
    demo.ensure_stream()
    demo.simulate(a, A)
    a_runs = dict(demo.runs.run_ids)
    b = demo.seed(B)  # the stream keeps running: B is counted without restarting it
    support.CREATED.append(b)
    demo.simulate(b, B)
    b_runs = dict(demo.runs.run_ids)
    for election_id in (a, b):
        drained(settings, election_id)
        demo.certify(election_id)
    print(results_table(demo.results(a)))
    print(results_table(demo.results(b)))
    return {"demo": demo, "started": started, "ids": (a, b), "runs": (a_runs, b_runs)}


def test_each_election_is_counted_exactly_and_certified(settings: Settings, two_elections) -> None:
    for election_id, request in zip(two_elections["ids"], (A, B), strict=True):
        in_postgres = support.per_candidate_in_postgres(settings, election_id)
        assert sum(in_postgres.values()) == expected_votes(request)
        streamed = support.latest_by_key(settings, settings.topics.votes_per_candidate, election_id)
        assert {v["candidate_id"]: v["total_votes"] for v in streamed.values()} == in_postgres
        assert all(key == f"{election_id}:{v['candidate_id']}" for key, v in streamed.items())
        states = support.latest_by_key(settings, settings.topics.turnout_by_location, election_id)
        assert sum(v["total_votes"] for v in states.values()) == expected_votes(request)
        assert all(v["count"] == v["total_votes"] for v in states.values()), "the seed project's field is kept"
        parties = support.latest_by_key(settings, settings.topics.votes_per_party, election_id)
        assert sum(v["total_votes"] for v in parties.values()) == expected_votes(request)
        with support.connect(settings) as conn:
            election = elections.require(conn, election_id)
            certified = dict(
                conn.execute(
                    "SELECT candidate_id::text, votes FROM certified_results WHERE election_id = %s", (election_id,)
                ).fetchall()
            )
        assert election.status == "certified"
        assert {c: v for c, v in certified.items() if v} == in_postgres
        result = support.latest_by_key(settings, settings.topics.election_results)[str(election_id)]
        assert result["status"] == "certified"
        assert result["total_votes"] == expected_votes(request)


def test_the_elections_are_kept_apart(settings: Settings, two_elections) -> None:
    a, b = two_elections["ids"]
    with support.connect(settings) as conn:
        candidates = {
            e: {c for (c,) in conn.execute("SELECT candidate_id::text FROM candidates WHERE election_id = %s", (e,))}
            for e in (a, b)
        }
    assert len(candidates[a]) == 3
    assert len(candidates[b]) == 4
    streamed_b = support.latest_by_key(settings, settings.topics.votes_per_candidate, b)
    assert {v["candidate_id"] for v in streamed_b.values()} <= candidates[b]


def test_no_dag_run_of_the_stack_failed(two_elections, api) -> None:
    states = api.run_states_since(two_elections["started"])
    assert states, "the runs of the two elections are listed"
    assert {key: state for key, state in states.items() if state == "failed"} == {}
    seeds = [key for key in states if key[0] == "election_seed"]
    assert len(seeds) == 2, "nothing started a seed run but the user"


def test_certifying_again_changes_nothing(settings: Settings, two_elections) -> None:
    demo = two_elections["demo"]
    a = two_elections["ids"][0]
    before = support.latest_by_key(settings, settings.topics.election_results)[str(a)]
    demo.certify(a)
    run_id = demo.runs.run_ids["election_certify"]
    states = {
        ti.task_id: str(ti.state.value)
        for ti in demo.api.tasks.get_task_instances("election_certify", run_id).task_instances
    }
    assert states["close_election"] == "success"
    assert {state for task, state in states.items() if task != "close_election"} == {"skipped"}
    assert support.latest_by_key(settings, settings.topics.election_results)[str(a)] == before


def test_every_task_log_is_readable_through_the_api(two_elections) -> None:
    demo = two_elections["demo"]
    a, _ = two_elections["ids"]
    a_runs, b_runs = two_elections["runs"]
    expected = [
        ("election_schema", a_runs, {"migrate_schema": "schema"}),
        ("election_seed", a_runs, {"load": f"election_id={a}", "publish": f"election {a}: published"}),
        ("election_streaming", b_runs, {"aggregate_votes": "[stream] counting"}),
        (
            "election_vote_simulation",
            a_runs,
            {
                "wait_for_voters": "voters published",
                "wait_for_stream": f"counting election {a}",
                "cast_votes": f"{expected_votes(A):,} votes cast",
            },
        ),
    ]
    for dag_id, runs, tasks in expected:
        for task_id, text in tasks.items():
            log = demo.api.task_log(dag_id, runs[dag_id], task_id)
            assert text in log, f"{dag_id}.{task_id}: {text!r} not in its log:\n{log[-2000:]}"
            assert "***" not in log, f"{dag_id}.{task_id}: the secret masker blanked a word of the log"
            assert not re.search(r'"level":"error"', log), f"{dag_id}.{task_id} logs errors:\n{log[-2000:]}"


def test_the_dashboard_shows_election_b_with_its_leader_and_status(settings: Settings, two_elections) -> None:
    demo = two_elections["demo"]
    _, b = two_elections["ids"]
    leader = demo.results(b)[0]["candidate"]
    with local_only_page(1400, 3000) as (page, blocked):
        page.goto(f"{settings.dashboard_url}/?election={b}", wait_until="domcontentloaded")
        votes = page.locator('[data-testid="stMetric"]', has_text="Votes cast").locator('[data-testid="stMetricValue"]')
        votes.first.wait_for(timeout=60_000)
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]'))"
            f".some(e => e.innerText.trim() === '{expected_votes(B):,}')",
            timeout=90_000,
        )
        status = page.locator(".st-key-election-status").inner_text()
        assert "e2e B" in status
        assert "certified" in status
        assert leader in page.locator(".st-key-leader").inner_text()
        assert page.url.endswith(f"election={b}")
        page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 6")
        screenshot(page, "e2e-dashboard.png")
    assert blocked == []


def test_the_airflow_ui_lists_the_dags_after_login(settings: Settings, two_elections) -> None:
    user, password = admin_login(settings)
    with local_only_page(1400, 900) as (page, blocked):
        page.goto(f"{settings.airflow_url}/", wait_until="domcontentloaded")
        page.fill('input[name="username"]', user)
        page.fill('input[name="password"]', password)
        page.click('button[type="submit"]')
        page.wait_for_url(lambda url: "/auth/login" not in url)
        page.goto(f"{settings.airflow_url}/dags", wait_until="domcontentloaded")
        for dag_id in DAG_IDS:
            page.get_by_text(dag_id, exact=True).first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        path = screenshot(page, "airflow-dags.png")
    assert path.stat().st_size > 20_000
    assert blocked == [], json.dumps(blocked)
