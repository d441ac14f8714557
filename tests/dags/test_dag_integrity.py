"""DAG integrity: every file in dags/ imports cleanly and every DAG follows the project's conventions.

Runs with the stack down: parsing a DAG file must never touch PostgreSQL, Kafka, Spark or the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"

APPROVED_TAGS = {
    "election",
    "schema",
    "seed",
    "streaming",
    "simulation",
    "certification",
    "data-quality",
    "postgres",
    "kafka",
    "spark",
}


def policy_violations(dag) -> list[str]:
    """What a DAG misses of the project's conventions (empty when it follows them all)."""
    problems = []
    if not dag.doc_md or not dag.doc_md.strip():
        problems.append("no doc_md (use the module's Markdown docstring)")
    if not dag.tags:
        problems.append("no tags")
    elif unapproved := sorted(set(dag.tags) - APPROVED_TAGS):
        problems.append(f"tags not in the approved list: {unapproved}")
    for task in dag.tasks:
        if not task.owner or task.owner == "airflow":
            problems.append(f"task {task.task_id}: no owner (set default_args['owner'])")
        if task.retries is None or task.retries < 0:
            problems.append(f"task {task.task_id}: retries not set")
    if "retries" not in (dag.default_args or {}):
        problems.append("default_args has no retries")
    return problems


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dag_bag) -> None:
    assert dag_bag.import_errors == {}, "\n".join(f"{f}: {e}" for f, e in dag_bag.import_errors.items())


def test_every_dag_file_defines_a_dag(dag_bag) -> None:
    files = {p.resolve() for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_")}
    with_dags = {Path(dag.fileloc).resolve() for dag in dag_bag.dags.values()}
    assert files == with_dags


def _dag_ids() -> list[str]:
    return sorted(p.stem for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("dag_id", _dag_ids())
def test_dag_follows_conventions(dag_bag, dag_id: str) -> None:
    dag = dag_bag.dags.get(dag_id)  # as parsed (get_dag would ask the metadata database)
    assert dag is not None, f"dags/{dag_id}.py must define a DAG with dag_id {dag_id!r}"
    assert policy_violations(dag) == []


def test_policy_rejects_a_dag_that_breaks_each_convention() -> None:
    """The checks above can fail: a DAG with no docs, owner, retries or approved tags is reported."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    with DAG("careless", schedule=None, tags=["misc"]) as careless:
        EmptyOperator(task_id="noop")
    problems = policy_violations(careless)
    assert any("doc_md" in p for p in problems)
    assert any("approved" in p for p in problems)
    assert any("owner" in p for p in problems)
    assert any("retries" in p for p in problems)

    with DAG(
        "careful",
        schedule=None,
        tags=["election"],
        doc_md="# Careful",
        default_args={"owner": "election-platform", "retries": 1},
    ) as careful:
        EmptyOperator(task_id="noop")
    assert policy_violations(careful) == []


# Loads dags/ in a fresh interpreter whose sockets refuse to connect anywhere: if parsing any DAG file
# opened a connection (database, broker, HTTP), the load records it and the test fails.
_PARSE_WITHOUT_NETWORK = textwrap.dedent(
    """
    import json, socket, sys
    attempts = []
    def refuse(self, address, *args, **kwargs):
        attempts.append(repr(address))
        raise OSError("network access during DAG parsing")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    errors = {k: str(v) for k, v in bag.import_errors.items()}
    print(json.dumps({"dags": sorted(bag.dag_ids), "errors": errors, "attempts": attempts}))
    """
)


def test_parsing_touches_no_service() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_WITHOUT_NETWORK, str(DAGS_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["attempts"] == []
    assert report["dags"] == _dag_ids()
