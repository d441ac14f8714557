"""Airflow of the local stack: every component is healthy and the UI's login works for `admin`."""

from __future__ import annotations

import httpx
import pytest

from election.config import Settings
from localstack import airflow

pytestmark = pytest.mark.platform  # the health of the components the platform lane's faults take away


def test_every_component_reports_healthy(settings: Settings) -> None:
    report = airflow.health(settings)
    for component in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert report[component]["status"] == "healthy", (component, report)


def test_admin_logs_in_and_reads_the_api_with_the_token(settings: Settings) -> None:
    password = airflow.admin_password(settings)
    assert password
    response = httpx.post(
        f"{settings.airflow_url}/auth/token", json={"username": "admin", "password": password}, timeout=30
    )
    assert response.status_code == 201, response.text
    token = response.json()["access_token"]
    dags = httpx.get(f"{settings.airflow_url}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert dags.status_code == 200
    assert "dags" in dags.json()


def test_wrong_password_and_no_token_are_refused(settings: Settings) -> None:
    response = httpx.post(
        f"{settings.airflow_url}/auth/token", json={"username": "admin", "password": "wrong"}, timeout=30
    )
    assert response.status_code == 401
    assert httpx.get(f"{settings.airflow_url}/api/v2/dags", timeout=30).status_code == 401


def test_ui_is_served(settings: Settings) -> None:
    page = httpx.get(settings.airflow_url, timeout=30, follow_redirects=True)
    assert page.status_code == 200
    assert "<html" in page.text.lower()
