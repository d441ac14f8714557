"""The Streamlit dashboard as a service of the local stack (started once `dashboard/app.py` exists)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from election.config import Settings
from localstack.process import Service


def app_path(settings: Settings) -> Path:
    return settings.home / "dashboard" / "app.py"


def command(settings: Settings, address: str = "localhost") -> list[str]:
    """`streamlit run dashboard/app.py` as the stack (and Compose, on 0.0.0.0) runs it."""
    return [
        str(Path(sys.executable).parent / "streamlit"),
        "run",
        str(app_path(settings)),
        "--server.port",
        str(settings.dashboard_port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button: this is a results page, not a development server
    ]


def service(settings: Settings) -> Service | None:
    app = app_path(settings)
    if not app.exists():
        return None
    port = settings.dashboard_port
    return Service(
        name="dashboard",
        command=command(settings),
        run_dir=settings.state_dir / "run",
        log_dir=settings.state_dir / "logs",
        health=lambda: httpx.get(f"{settings.dashboard_url}/_stcore/health", timeout=3).text == "ok",
        port=port,
        port_variable="ELECTION_DASHBOARD_PORT",
        cwd=settings.home,
        start_timeout=90,
    )
