"""A whole election through Airflow's REST API, as a user runs it from the UI: `make demo`.

election_schema → election_seed → election_streaming → election_vote_simulation (paced, so the dashboard
visibly moves), each unpaused, triggered and waited for through the official API client; then the results as
the stream computed them, checked against PostgreSQL, and where to look. The stack and the stream stay up.

`python -m election.demo --voters 20000 --candidates 3 --votes-per-second 150` (the Makefile passes
DEMO_VOTERS, DEMO_CANDIDATES, DEMO_VOTES_PER_SECOND, DEMO_TURNOUT).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import psycopg

from election.airflow_api import AirflowApi, AirflowError
from election.compacted import latest_values
from election.config import Settings, get_settings
from election.sql import read_sql
from election.stack.airflow import admin_password

DAG_IDS = ("election_schema", "election_seed", "election_streaming", "election_vote_simulation")


@dataclass(frozen=True)
class DemoRequest:
    voters: int = 20_000
    candidates: int = 3
    turnout: float = 0.7
    votes_per_second: float = 150.0
    random_seed: int = 2026


@dataclass
class ElectionRuns:
    """The DAG runs of one election, by DAG id, and when each step finished (seconds since the start)."""

    run_ids: dict[str, str] = field(default_factory=dict)
    timeline: list[tuple[str, float]] = field(default_factory=list)


class Demo:
    def __init__(self, settings: Settings, api: AirflowApi, say=print) -> None:
        self.settings, self.api, self.say = settings, api, say
        self.start = time.monotonic()
        self.runs = ElectionRuns()

    def _mark(self, what: str) -> None:
        elapsed = time.monotonic() - self.start
        self.runs.timeline.append((what, elapsed))
        self.say(f"[demo +{elapsed:5.0f}s] {what}")

    def _trigger(self, dag_id: str, conf: dict | None = None, detail: str = "") -> str:
        run_id = self.api.trigger(dag_id, conf)
        self.runs.run_ids[dag_id] = run_id
        self._mark(f"{dag_id}: triggered ({run_id}){detail}")
        return run_id

    def _succeeded(self, dag_id: str, run_id: str, timeout: float) -> None:
        state = self.api.wait_for_run(dag_id, run_id, timeout)
        if state != "success":
            raise AirflowError(f"{dag_id} run {run_id} ended {state}; see its task logs in the Airflow UI")
        self._mark(f"{dag_id}: success")

    def prepare(self) -> None:
        """Every DAG parsed and unpaused, except election_seed until the schema run is done: unpaused, it would
        also be started by the schema's Asset with its default size."""
        self.api.wait_for_dags(DAG_IDS)
        for dag_id in DAG_IDS:
            self.api.fail_unfinished_runs(dag_id, note="superseded by a new demo run")
        self.api.pause("election_seed")
        for dag_id in ("election_schema", "election_streaming", "election_vote_simulation"):
            self.api.unpause(dag_id)
        self._mark("Airflow: the four DAGs are parsed")

    def election_loaded(self) -> bool:
        with psycopg.connect(self.settings.election_db.conninfo()) as conn:
            exists = conn.execute("SELECT to_regclass('candidates') IS NOT NULL").fetchone()[0]
            return bool(exists and conn.execute("SELECT count(*) FROM candidates").fetchone()[0])

    def schema_and_seed(self, request: DemoRequest) -> None:
        self._succeeded("election_schema", self._trigger("election_schema"), timeout=300)
        if self.election_loaded():
            self._mark("election_seed: an election is already loaded, kept (`make clean` for a new one)")
        else:
            conf = {
                "num_voters": request.voters,
                "num_candidates": request.candidates,
                "random_seed": request.random_seed,
            }
            run_id = self._trigger("election_seed", conf, f", {request.voters:,} voters")
            self.api.unpause("election_seed")  # a manual run of a paused DAG waits for the unpause
            self._succeeded("election_seed", run_id, timeout=1800)
        self.api.unpause("election_seed")

    def start_stream(self) -> str:
        run_id = self._trigger("election_streaming")
        self.api.wait_for_task("election_streaming", run_id, "aggregate_votes", {"running"}, timeout=600)
        self._mark("election_streaming: aggregate_votes is running (the stream stays up)")
        return run_id

    def simulate(self, request: DemoRequest) -> str:
        conf = {"turnout": request.turnout, "votes_per_second": request.votes_per_second, "random_seed": 3}
        run_id = self._trigger("election_vote_simulation", conf, f", {request.votes_per_second:g} votes/s")
        self._wait_first_result(run_id)
        self._succeeded("election_vote_simulation", run_id, timeout=3600)
        return run_id

    def _wait_first_result(self, run_id: str, timeout: float = 600) -> None:
        """Until the stream published its first per-candidate total: the dashboard's first live frame."""
        deadline = time.monotonic() + timeout
        topic = self.settings.topics.votes_per_candidate
        while time.monotonic() < deadline:
            if latest_values(self.settings.kafka_client_config(), topic):
                self._mark(f"first votes aggregated: the dashboard is live at {self.settings.dashboard_url}")
                return
            if self.api.run_state("election_vote_simulation", run_id) == "failed":
                return
            time.sleep(1)

    def wait_for_drain(self, timeout: float = 300) -> list[dict]:
        """Until the streamed per-candidate totals equal PostgreSQL's; the results, most votes first."""
        deadline = time.monotonic() + timeout
        while True:
            results = self.results()
            if all(row["streamed"] == row["recorded"] for row in results):
                self._mark("stream drained: every vote recorded in PostgreSQL is counted")
                return results
            if time.monotonic() > deadline:
                self._mark(f"stream not drained after {timeout:.0f}s: the table shows what it has counted so far")
                return results
            time.sleep(1)

    def results(self) -> list[dict]:
        streamed = latest_values(self.settings.kafka_client_config(), self.settings.topics.votes_per_candidate)
        with psycopg.connect(self.settings.election_db.conninfo()) as conn:
            rows = conn.execute(read_sql("demo/results.sql")).fetchall()
        total = sum(recorded for *_, recorded in rows) or 1
        return sorted(
            (
                {
                    "candidate": name,
                    "party": party,
                    "recorded": recorded,
                    "streamed": int(streamed.get(candidate_id, {}).get("total_votes", 0)),
                    "share": 100.0 * recorded / total,
                }
                for candidate_id, name, party, recorded in rows
            ),
            key=lambda row: -row["recorded"],
        )


def results_table(results: list[dict]) -> str:
    headers = ("Candidate", "Party", "Votes (stream)", "Votes (PostgreSQL)", "Share")
    rows = [
        (r["candidate"], r["party"], f"{r['streamed']:,}", f"{r['recorded']:,}", f"{r['share']:.2f} %") for r in results
    ]
    total_stream = sum(r["streamed"] for r in results)
    total_pg = sum(r["recorded"] for r in results)
    rows.append(("Total", "", f"{total_stream:,}", f"{total_pg:,}", "100.00 %" if total_pg else "–"))
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows[:-1]]
    out += [line, "  ".join(str(c).ljust(w) for c, w in zip(rows[-1], widths, strict=True))]
    return "\n".join(out)


def connect(settings: Settings) -> AirflowApi:
    password = admin_password(settings)
    if password is None:
        raise AirflowError("no Airflow admin password yet: run `make up` first")
    return AirflowApi(settings.airflow_url, settings.airflow_admin_user, password)


def run(settings: Settings, request: DemoRequest) -> list[dict]:
    demo = Demo(settings, connect(settings))
    demo.prepare()
    demo.schema_and_seed(request)
    demo.start_stream()
    demo.simulate(request)
    results = demo.wait_for_drain()
    print()
    print(results_table(results))
    print()
    login = f"user {settings.airflow_admin_user}  password {admin_password(settings)}"
    print(f"  Airflow UI   {settings.airflow_url}   {login}")
    print(f"  Dashboard    {settings.dashboard_url}")
    print("  The stream keeps running (election_streaming); `make down` stops the stack.")
    return results


def main(argv: list[str] | None = None) -> int:
    defaults = DemoRequest()
    parser = argparse.ArgumentParser(prog="python -m election.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=defaults.voters)
    parser.add_argument("--candidates", type=int, default=defaults.candidates)
    parser.add_argument("--turnout", type=float, default=defaults.turnout)
    parser.add_argument("--votes-per-second", type=float, default=defaults.votes_per_second)
    args = parser.parse_args(argv)
    request = DemoRequest(args.voters, args.candidates, args.turnout, args.votes_per_second)
    try:
        run(get_settings(), request)
    except AirflowError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
