"""A whole election through Airflow's REST API, as a user runs it from the UI: `make demo`.

Every run is a new election, named with the time; older ones stay as they are. election_schema →
election_seed (the new election) → election_streaming (kept running by its `@continuous` schedule) →
election_vote_simulation (paced, so the dashboard visibly moves) → election_certify, each triggered and waited for
through the official API client; then the results as the stream counted them beside PostgreSQL's, and where to
look. The stack and the stream stay up.

`python -m election.demo --voters 20000 --candidates 3 --votes-per-second 150` (the Makefile passes
DEMO_VOTERS, DEMO_CANDIDATES, DEMO_VOTES_PER_SECOND, DEMO_TURNOUT, DEMO_REPORTING_ORDER).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from election.airflow_api import AirflowApi, AirflowError
from election.config import Settings, get_settings
from election.domain import REPORTING_ORDERS
from election.results.certification import streamed_totals
from election.sql import read_sql

log = logging.getLogger("election.demo")

DAG_IDS = ("election_schema", "election_seed", "election_streaming", "election_vote_simulation", "election_certify")


@dataclass(frozen=True)
class DemoRequest:
    voters: int = 20_000
    candidates: int = 3
    turnout: float | None = None  # None: each state's seeded expected turnout
    votes_per_second: float = 150.0
    reporting_order: str = "east_to_west"  # calls come state by state, east first, as on election night
    random_seed: int | None = None  # None: from the clock (each demo election votes differently)
    name: str | None = None  # None: "Demo <time>"


@dataclass
class ElectionRuns:
    """The DAG runs of one election, by DAG id, and when each step finished (seconds since the start)."""

    election_id: int | None = None
    run_ids: dict[str, str] = field(default_factory=dict)
    timeline: list[tuple[str, float]] = field(default_factory=list)


class Demo:
    def __init__(self, settings: Settings, api: AirflowApi, say=log.info) -> None:
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
        """Every DAG parsed and unpaused. Only election_streaming then starts by itself (`@continuous`: its stream
        waits for the schema if there is none yet); the others run when triggered."""
        self.api.wait_for_dags(DAG_IDS)
        for dag_id in DAG_IDS:
            self.api.unpause(dag_id)
        self._mark("Airflow: the DAGs are parsed and unpaused")

    def schema(self) -> None:
        self._succeeded("election_schema", self._trigger("election_schema"), timeout=300)

    def seed(self, request: DemoRequest) -> int:
        """A new election; its id (what the seed run's `load` task returned)."""
        name = request.name or f"Demo {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        conf = {
            "election_name": name,
            "num_voters": request.voters,
            "num_candidates": request.candidates,
            "random_seed": request.random_seed if request.random_seed is not None else 2026,
        }
        run_id = self._trigger("election_seed", conf, f", {request.voters:,} voters")
        self._succeeded("election_seed", run_id, timeout=1800)
        election_id = int(self.api.xcom("election_seed", run_id, "load"))
        self.runs.election_id = election_id
        self._mark(f"election {election_id} ({name!r}) is open")
        return election_id

    def ensure_stream(self) -> str:
        """The running stream (one counts every election): election_streaming is `@continuous`, so once unpaused
        the scheduler keeps one run going by itself."""
        running = bool(self.api.running_runs("election_streaming"))
        run_id = self.api.wait_for_running_run("election_streaming", timeout=300)
        self.runs.run_ids["election_streaming"] = run_id
        self.api.wait_for_task("election_streaming", run_id, "aggregate_votes", {"running"}, timeout=600)
        self._mark(f"election_streaming: aggregate_votes is running ({'already' if running else 'started'})")
        return run_id

    def simulate(self, election_id: int, request: DemoRequest) -> str:
        seed = request.random_seed if request.random_seed is not None else int(time.time()) % 100_000
        conf = {
            "election_id": election_id,
            "turnout": request.turnout,
            "votes_per_second": request.votes_per_second,
            "reporting_order": request.reporting_order,
            "random_seed": seed,
        }
        run_id = self._trigger("election_vote_simulation", conf, f", {request.votes_per_second:g} votes/s")
        self._wait_first_result(election_id, run_id)
        self._succeeded("election_vote_simulation", run_id, timeout=3600)
        return run_id

    def _wait_first_result(self, election_id: int, run_id: str, timeout: float = 600) -> None:
        """Until the stream published the election's first per-candidate total: the dashboard's first live frame."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._streamed(election_id):
                self._mark(
                    f"first votes aggregated: the dashboard is live at {self.settings.dashboard_url}/?election="
                    f"{election_id}"
                )
                return
            if self.api.run_state("election_vote_simulation", run_id) == "failed":
                return
            time.sleep(1)

    def certify(self, election_id: int) -> None:
        run_id = self._trigger("election_certify", {"election_id": election_id})
        self._succeeded("election_certify", run_id, timeout=1800)

    def _streamed(self, election_id: int) -> dict[str, int]:
        return streamed_totals(
            self.settings.kafka_client_config(), self.settings.topics.votes_per_candidate, election_id, "candidate_id"
        )

    def results(self, election_id: int) -> list[dict]:
        """Per candidate: the stream's count and PostgreSQL's, most votes first."""
        streamed = self._streamed(election_id)
        with psycopg.connect(self.settings.election_db.conninfo()) as conn:
            rows = conn.execute(read_sql("results/per_candidate.sql"), {"election_id": election_id}).fetchall()
        total = sum(int(row[-1]) for row in rows) or 1
        return sorted(
            (
                {
                    "candidate": name,
                    "party": party,
                    "recorded": int(recorded),
                    "streamed": streamed.get(candidate_id, 0),
                    "share": 100.0 * int(recorded) / total,
                }
                for candidate_id, name, party, _photo, recorded in rows
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


def admin_login(settings: Settings) -> tuple[str, str]:
    """The Airflow login, as a user finds it: AIRFLOW_ADMIN_PASSWORD, else the file `make up` generated."""
    if settings.airflow_admin_password:
        return settings.airflow_admin_user, settings.airflow_admin_password
    path = Path(settings.state_dir) / "airflow" / "simple_auth_manager_passwords.json"
    try:
        return settings.airflow_admin_user, json.loads(path.read_text())[settings.airflow_admin_user]
    except (FileNotFoundError, KeyError, ValueError):
        raise AirflowError("no Airflow admin password yet: run `make up` first") from None


def connect(settings: Settings) -> AirflowApi:
    user, password = admin_login(settings)
    return AirflowApi(settings.airflow_url, user, password)


def run(settings: Settings, request: DemoRequest) -> tuple[int, list[dict]]:
    demo = Demo(settings, connect(settings))
    demo.prepare()
    demo.schema()
    election_id = demo.seed(request)
    demo.ensure_stream()
    demo.simulate(election_id, request)
    demo.certify(election_id)
    results = demo.results(election_id)
    user, password = admin_login(settings)
    summary = [
        "",
        f"Election {election_id}: certified. Per candidate, the stream's count and PostgreSQL's:",
        "",
        results_table(results),
        "",
        f"  Airflow UI   {settings.airflow_url}   user {user}  password {password}",
        f"  Dashboard    {settings.dashboard_url}/?election={election_id}",
        "  The stream keeps running (election_streaming); `make down` stops the stack.",
    ]
    sys.stdout.write("\n".join(summary) + "\n")
    return election_id, results


def main(argv: list[str] | None = None) -> int:
    defaults = DemoRequest()
    parser = argparse.ArgumentParser(prog="python -m election.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=defaults.voters)
    parser.add_argument("--candidates", type=int, default=defaults.candidates)
    parser.add_argument("--turnout", type=float, help="one turnout everywhere (default: the seeded per-state ones)")
    parser.add_argument("--votes-per-second", type=float, default=defaults.votes_per_second)
    parser.add_argument("--reporting-order", choices=REPORTING_ORDERS, default=defaults.reporting_order)
    parser.add_argument("--name", help="the election's name (default: Demo <time>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    request = DemoRequest(
        args.voters, args.candidates, args.turnout, args.votes_per_second, args.reporting_order, name=args.name
    )
    try:
        run(get_settings(), request)
    except AirflowError as error:
        log.error("demo failed: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
