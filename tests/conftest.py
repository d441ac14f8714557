"""Shared test set-up: the stack's settings and Airflow environment, and the integration marker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
