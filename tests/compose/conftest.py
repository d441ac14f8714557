"""`make test-compose`: docker-compose.yaml started for real, on stand-in images built with no registry.

One session: the engine started, the images built (cached between runs), the project up and healthy; at the end
`down -v` and the engine stopped. A failure prints the logs of every service that was not as it should be."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
import timing
import yaml
from docker_engine import ROOT, STATE, ComposeProject, Engine, write_env_file

from election.config import Settings, read_env_file, read_settings

SERVICES = sorted(yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"])


@pytest.fixture(scope="session")
def compose(request: pytest.FixtureRequest) -> Iterator[ComposeProject]:
    _ports_free()
    engine = Engine()
    project = ComposeProject(engine, STATE / "compose.env")
    try:
        with timing.phase("compose: engine start"):
            engine.start()
        with timing.phase("compose: image builds (docker/build-images.sh --offline)"):
            engine.build_images()
        write_env_file(project.env_file)
        with timing.phase("compose: up until every service is healthy"):
            project.down()  # a project a crashed run left behind
            project.run("up", "--detach", "--no-build", timeout=1800)
            project.wait_healthy(SERVICES, timeout=900)
        yield project
        if request.session.testsfailed:
            _print_logs(project)
    except Exception:
        _print_logs(project)
        raise
    finally:
        with timing.phase("compose: down -v, engine stopped"):
            try:
                if engine.process is not None:
                    project.down()
            finally:
                engine.stop()


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
    values = read_env_file(compose.env_file)  # the project's .env, as `set -a; . ./.env` gives it to a client
    values.update(
        {  # what README's command line adds for a client on the host
            "ELECTION_STACK_PROFILE": "cluster",
            "ELECTION_KAFKA_SASL_MECHANISM": "PLAIN",
            # state and passwords apart from the local stacks'
            "ELECTION_STATE_DIR": str(STATE / "state"),
            "ELECTION_CREDENTIALS_FILE": str(compose.env_file),
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):  # a user's settings (make exports .env) are not the project's
            if key.startswith(("ELECTION_", "AIRFLOW_ADMIN")):
                patch.delenv(key)
        for key, value in values.items():
            patch.setenv(key, value)
        yield read_settings("cluster")
