"""`make test-compose`: docker-compose.yaml started for real, on stand-in images built with no registry.

One session: the engine started, the images built (cached between runs), the project up and healthy; at the end
`down -v` and the engine stopped. A failure prints the logs of every service that was not as it should be."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
import yaml
from docker_engine import ROOT, STATE, ComposeProject, Engine, write_env_file

from election.config import Settings, read_env_file, read_settings

# what each phase took, printed at the end of the run (the figures of the closing note and the README)
TIMINGS: dict[str, float] = {}
SERVICES = sorted(yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"])


@pytest.fixture(scope="session")
def compose(request: pytest.FixtureRequest) -> Iterator[ComposeProject]:
    _ports_free()
    engine = Engine()
    project = ComposeProject(engine, STATE / "compose.env")
    try:
        started = time.monotonic()
        engine.start()
        TIMINGS["engine start"] = time.monotonic() - started
        TIMINGS["image builds (docker/build-images.sh --offline)"] = engine.build_images()
        write_env_file(project.env_file)
        project.down()  # a project a crashed run left behind
        started = time.monotonic()
        project.run("up", "--detach", "--no-build", timeout=1800)
        project.wait_healthy(SERVICES, timeout=900)
        TIMINGS["compose up until every service is healthy"] = time.monotonic() - started
        started = time.monotonic()
        yield project
        TIMINGS["the tests"] = time.monotonic() - started
        if request.session.testsfailed:
            _print_logs(project)
    except Exception:
        _print_logs(project)
        raise
    finally:
        started = time.monotonic()
        try:
            if engine.process is not None:
                project.down()
        finally:
            engine.stop()
        TIMINGS["compose down -v, engine stopped"] = time.monotonic() - started


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        terminalreporter.section("make test-compose: where the time went")
        for phase, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{phase:<50} {seconds:7.0f} s")


def _ports_free() -> None:
    """The project publishes the local stacks' ports: say so before building anything when one is taken."""
    taken = []
    for port in (5432, 8080, 8501, 9092, 9192, 9292):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                taken.append(port)
    if taken:
        pytest.fail(f"ports {taken} are in use: stop the local stack first (make down; make down PROFILE=cluster)")


def _print_logs(project: ComposeProject) -> None:
    try:
        problems = project.problems()
    except Exception as error:  # noqa: BLE001 - the engine itself may be the failure
        print(f"\n=== could not list the containers: {error}")
        return
    for service in sorted(problems) or SERVICES:
        print(f"\n=== {service}: {problems.get(service, 'logs')}\n{project.logs(service)}")


@pytest.fixture(scope="session")
def compose_settings(compose: ComposeProject) -> Iterator[Settings]:
    """The platform's settings as a client on the host sees the Compose project: its ports on localhost, its
    generated passwords, the admin's SASL/PLAIN, state apart from the local stacks'."""
    values = {
        "ELECTION_STACK_PROFILE": "cluster",
        "ELECTION_STATE_DIR": str(STATE / "state"),
        "ELECTION_CREDENTIALS_FILE": str(compose.env_file),
        "ELECTION_KAFKA_SASL_MECHANISM": "PLAIN",
        "ELECTION_DB_HOST": "localhost",
        "ELECTION_AIRFLOW_HOST": "localhost",
    }
    values.update(read_env_file(compose.env_file))
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):  # a user's settings (make exports .env) are not the project's
            if key.startswith(("ELECTION_", "AIRFLOW_ADMIN")):
                patch.delenv(key)
        for key, value in values.items():
            patch.setenv(key, value)
        yield read_settings("cluster")
