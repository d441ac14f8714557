"""Driving Airflow through its REST API, as a user does from the UI: the official `apache-airflow-client`.

Used by `make demo` and the end-to-end tests. The simple auth manager hands out the JWT (POST /auth/token);
everything else goes through the generated client.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

import airflow_client.client as airflow_client
import httpx
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.models.dag_patch_body import DAGPatchBody
from airflow_client.client.models.dag_run_mutable_states import DagRunMutableStates
from airflow_client.client.models.dag_run_patch_body import DAGRunPatchBody
from airflow_client.client.models.patch_task_instance_body import PatchTaskInstanceBody
from airflow_client.client.models.task_instance_state import TaskInstanceState
from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

FINISHED = {"success", "failed"}


class AirflowError(RuntimeError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        response = httpx.post(f"{base_url}/auth/token", json={"username": username, "password": password}, timeout=30)
        if response.status_code not in (200, 201):
            raise AirflowError(f"login to {base_url} as {username!r} failed: HTTP {response.status_code}")
        configuration = airflow_client.Configuration(host=base_url, access_token=response.json()["access_token"])
        self.client = airflow_client.ApiClient(configuration)
        self.dags = DAGApi(self.client)
        self.runs = DagRunApi(self.client)
        self.tasks = TaskInstanceApi(self.client)
        self.xcoms = XComApi(self.client)

    def dag_ids(self) -> list[str]:
        return sorted(dag.dag_id for dag in self.dags.get_dags(limit=100).dags)

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 180) -> None:
        """Until the dag-processor has parsed every one of `dag_ids` (on a fresh stack it takes a moment)."""
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        while not wanted <= set(self.dag_ids()):
            if time.monotonic() > deadline:
                raise AirflowError(f"DAGs not parsed within {timeout:.0f}s: {sorted(wanted - set(self.dag_ids()))}")
            time.sleep(2)

    def unpause(self, dag_id: str) -> None:
        self.dags.patch_dag(dag_id, DAGPatchBody(is_paused=False))

    def pause(self, dag_id: str) -> None:
        self.dags.patch_dag(dag_id, DAGPatchBody(is_paused=True))

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.runs.trigger_dag_run(dag_id, TriggerDAGRunPostBody(conf=conf or {}, logical_date=None))
        return run.dag_run_id

    def fail_unfinished_runs(self, dag_id: str, note: str) -> list[str]:
        """Marks the DAG's queued and running runs failed, as "Mark as failed" in the UI does (a run whose
        process died stays "running" and, with max_active_runs=1, holds back every new one)."""
        unfinished = self.runs.get_dag_runs(dag_id, state=["queued", "running"], limit=100).dag_runs
        for run in unfinished:
            self.runs.patch_dag_run(
                dag_id, run.dag_run_id, DAGRunPatchBody(state=DagRunMutableStates.FAILED, note=note)
            )
        return [run.dag_run_id for run in unfinished]

    def running_runs(self, dag_id: str) -> list[str]:
        """The DAG's runs that are queued or running now."""
        runs = self.runs.get_dag_runs(dag_id, state=["queued", "running"], limit=100).dag_runs
        return [run.dag_run_id for run in runs]

    def wait_for_running_run(self, dag_id: str, timeout: float) -> str:
        """Until the DAG has a queued or running run (a `@continuous` DAG's scheduler makes one itself); its id."""
        deadline = time.monotonic() + timeout
        while not (running := self.running_runs(dag_id)):
            if time.monotonic() > deadline:
                raise AirflowError(f"{dag_id} has no run after {timeout:.0f}s: is it paused?")
            time.sleep(2)
        return running[0]

    def run_states_since(self, since: dt.datetime) -> dict[tuple[str, str], str]:
        """Every DAG run of the whole stack that started after `since`: (dag_id, run_id) -> state."""
        found = {}
        for dag_id in self.dag_ids():
            for run in self.runs.get_dag_runs(dag_id, run_after_gte=since, limit=1000).dag_runs:
                found[(dag_id, run.dag_run_id)] = str(run.state.value)
        return found

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """What a task returned (its XCom), as the UI's XCom tab shows it."""
        return self.xcoms.get_xcom_entry(dag_id, task_id, run_id, key, deserialize=True).actual_instance.value

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.runs.get_dag_run(dag_id, run_id).state.value)

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        state = self.tasks.get_task_instance(dag_id, run_id, task_id).state
        return None if state is None else str(state.value)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Until the run finishes; its final state."""
        deadline = time.monotonic() + timeout
        while (state := self.run_state(dag_id, run_id)) not in FINISHED:
            if time.monotonic() > deadline:
                raise AirflowError(f"{dag_id} run {run_id} still {state} after {timeout:.0f}s")
            time.sleep(2)
        return state

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (state := self.task_state(dag_id, run_id, task_id)) not in states:
            if state in {"failed", "upstream_failed"} and not states & {"failed", "upstream_failed"}:
                raise AirflowError(f"{dag_id}.{task_id} is {state}:\n{self.task_log(dag_id, run_id, task_id)}")
            if time.monotonic() > deadline:
                raise AirflowError(f"{dag_id}.{task_id} still {state} after {timeout:.0f}s")
            time.sleep(2)
        return state

    def mark_task(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        """What "Mark as failed/success" does in the UI."""
        self.tasks.patch_task_instance(
            dag_id, run_id, task_id, PatchTaskInstanceBody(new_state=TaskInstanceState(state))
        )

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int | None = None) -> str:
        """The task's log as the UI's Logs tab shows it (one line per event)."""
        if try_number is None:
            try_number = max(1, self.tasks.get_task_instance(dag_id, run_id, task_id).try_number)
        response = self.tasks.get_log(dag_id, run_id, task_id, try_number, full_content=True)
        content = response.content.actual_instance
        lines = []
        for entry in content if isinstance(content, list) else [content]:
            event = entry.get("event") if isinstance(entry, dict) else getattr(entry, "event", entry)
            lines.append(str(event))
        return "\n".join(lines)
