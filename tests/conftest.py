"""Shared test set-up: the stack's settings and Airflow environment, and the integration marker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import timing

from election.config import Settings, get_settings
from localstack.airflow import airflow_environment

# Airflow reads its configuration when it is first imported: give every test the same environment as the
# stack's Airflow processes (metadata DB, connections as AIRFLOW_CONN_*), before any test imports airflow.
os.environ.update(airflow_environment(get_settings()))

TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parents = Path(item.fspath).parents
        if (TESTS_DIR / "integration") in parents:
            item.add_marker(pytest.mark.integration)
        if (TESTS_DIR / "integration" / "cluster") in parents:
            item.add_marker(pytest.mark.cluster)
        if (TESTS_DIR / "compose") in parents:
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.compose)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


def pytest_runtest_logstart(nodeid: str) -> None:
    timing.test_started(nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    timing.add_test(report.nodeid, report.duration)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # pytest-xdist: the controller sees every worker's reports
        timing.write_report()


def pytest_terminal_summary(terminalreporter) -> None:
    if timing.PHASES:
        terminalreporter.section("phases of this session")
        for name, seconds in timing.PHASES.items():
            terminalreporter.write_line(f"{name:<50} {seconds:7.0f} s")
