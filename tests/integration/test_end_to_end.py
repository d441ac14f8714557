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
from browser import ARTIFACTS, local_only_page, screenshot
from conftest import drained

from election import elections
from election.config import Settings
from election.demo import DAG_IDS, Demo, DemoRequest, admin_login, results_table
from election.results.certification import final_calls
from election.results.race_calls import NATIONAL, RaceCall

pytestmark = pytest.mark.timeout(1800)

# A: election night as the demo runs it (the seeded turnout of each state, east to west, polls closing wave by
# wave); B: one turnout everywhere, in the voters' topic order, as fast as possible.
A = DemoRequest(voters=1_201, candidates=3, votes_per_second=300, random_seed=77, name="e2e A")
B = DemoRequest(
    voters=2_003, candidates=4, turnout=0.6, votes_per_second=0, reporting_order="random", random_seed=78, name="e2e B"
)


def expected_votes(settings: Settings, election_id: int, request: DemoRequest) -> int:
    """The simulation casts exactly each state's expected vote: round(N × turnout) in all with one turnout."""
    with support.connect(settings) as conn:
        (expected,) = conn.execute(
            "SELECT sum(expected_votes) FROM election_states WHERE election_id = %s", (election_id,)
        ).fetchone()
    if request.turnout is not None:
        assert expected == round(request.voters * request.turnout)
    return int(expected)


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
        assert sum(in_postgres.values()) == expected_votes(settings, election_id, request)
        streamed = support.latest_by_key(settings, settings.topics.votes_per_candidate, election_id)
        assert {v["candidate_id"]: v["total_votes"] for v in streamed.values()} == in_postgres
        assert all(key == f"{election_id}:{v['candidate_id']}" for key, v in streamed.items())
        states = support.latest_by_key(settings, settings.topics.turnout_by_location, election_id)
        assert sum(v["total_votes"] for v in states.values()) == expected_votes(settings, election_id, request)
        assert all(v["count"] == v["total_votes"] for v in states.values()), "the seed project's field is kept"
        parties = support.latest_by_key(settings, settings.topics.votes_per_party, election_id)
        assert sum(v["total_votes"] for v in parties.values()) == expected_votes(settings, election_id, request)
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
        assert result["total_votes"] == expected_votes(settings, election_id, request)


def test_every_race_call_was_certain_when_made_and_is_the_final_winner(settings: Settings, two_elections) -> None:
    """Each call against PostgreSQL: the winner of its final count there, and — for a call made while the election
    was open — a lead larger than the registered voters who had not voted, counting every vote PostgreSQL had
    recorded (`recorded_at`) by `called_at`. The national call is the electoral-vote majority of the final count."""
    made_while_open = closed_while_open = nationals = 0
    for election_id in two_elections["ids"]:
        calls = {
            v["state"]: RaceCall.from_message(v)
            for v in support.latest_by_key(settings, settings.topics.race_calls, election_id).values()
        }
        with support.connect(settings) as conn:
            final = final_calls(conn, election_id)
            closed_at = elections.require(conn, election_id).closed_at
            polls_closed = dict(
                conn.execute(
                    "SELECT state_code, polls_closed_at FROM election_states"
                    " WHERE election_id = %s AND polls_closed_at IS NOT NULL",
                    (election_id,),
                ).fetchall()
            )
            registered = dict(
                conn.execute(
                    "SELECT state_code, registered_voters FROM registered_voters_per_state WHERE election_id = %s",
                    (election_id,),
                ).fetchall()
            )
            votes = conn.execute(
                "SELECT w.address_state, v.candidate_id::text, v.recorded_at FROM votes v "
                "JOIN voters w USING (election_id, voter_id) WHERE v.election_id = %s",
                (election_id,),
            ).fetchall()
            certified = {
                state: candidate
                for state, candidate in conn.execute(
                    "SELECT state, candidate_id::text FROM certified_race_calls WHERE election_id = %s",
                    (election_id,),
                ).fetchall()
            }
        assert {s: c.candidate_id for s, c in calls.items()} == {s: d.candidate_id for s, d in final.items()}
        assert certified == {s: c.candidate_id for s, c in calls.items()}, "certification recorded the calls"
        nationals += NATIONAL in calls  # with 4 candidates nobody may reach 270: then there is no national call
        for state, call in calls.items():
            if state == NATIONAL or call.called_at >= closed_at:
                continue
            made_while_open += 1
            held: dict[str, int] = {}
            for where, candidate, recorded_at in votes:
                if where == state and recorded_at <= call.called_at:
                    held[candidate] = held.get(candidate, 0) + 1
            not_voted = registered[state] - sum(held.values())
            if state in polls_closed and polls_closed[state] <= call.called_at:
                # its polls had closed: PostgreSQL held every vote it would ever hold there, and no more may come
                closed_while_open += 1
                assert all(at <= polls_closed[state] for where, _, at in votes if where == state), state
                not_voted = 0
            if call.tie:  # every voter of the state had voted, and the leaders were level
                top = max(held.values())
                assert (not_voted, sorted(held.values())[-2]) == (0, top), f"{election_id} {state}: {held}"
                continue
            rivals = [n for candidate, n in held.items() if candidate != call.candidate_id]
            assert held.get(call.candidate_id, 0) - max(rivals, default=0) > not_voted, (
                f"election {election_id} {state} called at {call.called_at} for {call.candidate_id} with "
                f"{held} in PostgreSQL and {not_voted} still to vote"
            )
        per_state_candidate = support.latest_by_key(settings, settings.topics.votes_per_state_candidate, election_id)
        per_candidate = support.latest_by_key(settings, settings.topics.votes_per_candidate, election_id)
        per_state = support.latest_by_key(settings, settings.topics.turnout_by_location, election_id)
        by_candidate: dict[str, int] = {}
        by_state: dict[str, int] = {}
        for v in per_state_candidate.values():
            by_candidate[v["candidate_id"]] = by_candidate.get(v["candidate_id"], 0) + v["total_votes"]
            by_state[v["state"]] = by_state.get(v["state"], 0) + v["total_votes"]
        assert by_candidate == {v["candidate_id"]: v["total_votes"] for v in per_candidate.values()}
        assert by_state == {v["state"]: v["total_votes"] for v in per_state.values()}
        assert all(v["expected_votes"] is not None for v in per_state.values()), "the simulation set the turnout"
    assert made_while_open > 0, "some states were called while votes were still coming in"
    assert closed_while_open > 0, "east to west: states were called once their polls closed, before the election's"
    assert nationals > 0, "a candidate won a majority of the electoral votes: the national call was made"


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


def test_every_task_log_is_readable_through_the_api(settings: Settings, two_elections) -> None:
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
                "cast_votes": f"{expected_votes(settings, a, A):,} votes cast",
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
            f".some(e => e.innerText.trim() === '{expected_votes(settings, b, B):,}')",
            timeout=90_000,
        )
        status = page.locator(".st-key-election-status").inner_text()
        assert "e2e B" in status
        assert "certified" in status
        assert leader in page.locator(".st-key-leader").inner_text()
        assert page.url.endswith(f"election={b}")
        page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 8")
        screenshot(page, "e2e-dashboard.png")
        night = page.locator(".st-key-election-night")
        national = "wins the election with" if _has_national(settings, b) else "No candidate reached 270"
        assert national in night.inner_text(), "the national call, or why there is none"
        assert "called for" in night.locator(".st-key-call-feed").inner_text()
        assert night.locator(".vega-embed").count() == 2, "the electoral-vote bar and the map of calls"
        night.screenshot(path=str(ARTIFACTS / "election-night-b.png"))
        a, _ = two_elections["ids"]
        page.goto(f"{settings.dashboard_url}/?election={a}", wait_until="domcontentloaded")
        page.locator(".st-key-election-status", has_text="e2e A").wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.st-key-election-night .vega-embed').length == 2")
        night = page.locator(".st-key-election-night")
        if _has_national(settings, a):
            night.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
        night.screenshot(path=str(ARTIFACTS / "election-night.png"))
    assert blocked == []


def _has_national(settings: Settings, election_id: int) -> bool:
    return f"{election_id}:{NATIONAL}" in support.latest_by_key(settings, settings.topics.race_calls, election_id)


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
