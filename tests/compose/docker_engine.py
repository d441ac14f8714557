"""Test support for `make test-compose`: a Docker engine of the test's own and the Compose project it runs.

The engine is Debian's `dockerd` (package docker.io), started as the machine allows it: no iptables, no default
bridge (Compose's own network is a user-defined bridge, which resolves service names), overlay2 storage, on a
socket of its own so it never meets another engine. Its image store lives in the user's cache directory
(`~/.cache/election-platform/docker`), so stand-ins and layers survive between runs; it is harmless when absent.
The Compose project has a name of its own and its own generated .env, and leaves nothing behind (`down -v`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from election.config import read_env_file

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".local" / "compose"
DATA_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "election-platform" / "docker"
# short paths: the engine's and containerd's Unix sockets live here (a socket path has a length limit); /run is
# root's, so no other user can prepare the directory a root daemon then trusts
RUN_DIR = Path("/run/election-compose")
SOCKET = RUN_DIR / "docker.sock"
PIDFILE = RUN_DIR / "dockerd.pid"
# Debian's docker CLI (20.10) builds with BuildKit by itself; a newer CLI without the buildx plugin cannot
DOCKER = "/usr/bin/docker"
COMPOSE = "/usr/bin/docker-compose"
PROJECT = "election-compose-test"
IMAGES = ROOT / "docker" / "offline" / "images.env"
# what docker-compose.yaml requires (`${VAR:?message}`): every password, read from the file itself
REQUIRED = sorted(set(re.findall(r"(?<!\$)\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yaml").read_text())))


class EngineError(RuntimeError):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _is_our_dockerd(pid: int) -> bool:
    """The pid file's process is still a dockerd on our socket (not a reused pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(command) and command[0].endswith(b"dockerd") and f"--host=unix://{SOCKET}".encode() in command


class Engine:
    """`dockerd` started and stopped by the test; `env` points the docker CLI and Compose at it."""

    def __init__(self) -> None:
        self.log = STATE / "dockerd.log"
        self.process: subprocess.Popen | None = None
        # the project's settings come from its own .env only: a user's (exported by make) must not reach it
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("ELECTION_", "AIRFLOW", "DOCKER_"))}
        if "ELECTION_CA_BUNDLE" in os.environ:  # the builds' CA bundle (docker/build-images.sh) is not a setting
            inherited["ELECTION_CA_BUNDLE"] = os.environ["ELECTION_CA_BUNDLE"]
        self.env = {**inherited, "DOCKER_HOST": f"unix://{SOCKET}", "DOCKER": DOCKER, "COMPOSE_HTTP_TIMEOUT": "600"}

    def docker(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [DOCKER, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise EngineError(f"docker {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def start(self) -> None:
        if os.geteuid() != 0:
            raise EngineError("make test-compose starts a Docker engine and runs debootstrap: it must run as root")
        for tool in ("/usr/sbin/dockerd", DOCKER, COMPOSE, "/usr/sbin/debootstrap"):
            if not Path(tool).exists():
                raise EngineError(f"{tool} missing: `make test-compose` installs it (scripts/install-docker.sh)")
        self.stop()  # an engine a crashed run left behind
        STATE.mkdir(parents=True, exist_ok=True)
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        DATA_ROOT.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    "/usr/sbin/dockerd",
                    "--iptables=false",
                    "--ip6tables=false",
                    "--bridge=none",
                    "--storage-driver=overlay2",
                    f"--host=unix://{SOCKET}",
                    f"--data-root={DATA_ROOT}",
                    f"--exec-root={RUN_DIR / 'exec'}",
                    f"--pidfile={PIDFILE}",
                    # apart from any other engine's containers on a shared containerd
                    "--containerd-namespace=election-compose",
                    "--containerd-plugins-namespace=election-compose-plugins",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while self.docker("version", timeout=30, check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
                raise EngineError(f"dockerd did not come up (exit code {self.process.poll()}); {self.log}:\n{tail}")
            time.sleep(1)

    def stop(self) -> None:
        if self.process is not None:  # ours: stopped and reaped
            self.process.terminate()
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
            self.process = None
            PIDFILE.unlink(missing_ok=True)
            return
        try:
            pid = int(PIDFILE.read_text())
        except (FileNotFoundError, ValueError):
            return
        if _alive(pid) and _is_our_dockerd(pid):  # one a crashed run left behind
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 90
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.5)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        PIDFILE.unlink(missing_ok=True)

    def build_images(self) -> float:
        """The stand-ins and the project's image (docker/build-images.sh --offline); the seconds it took."""
        started = time.monotonic()
        with (STATE / "build.log").open("w") as log:
            result = subprocess.run(
                [str(ROOT / "docker" / "build-images.sh"), "--offline"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=3600,
                check=False,
            )
        if result.returncode != 0:
            tail = (STATE / "build.log").read_text().splitlines()[-60:]
            raise EngineError("building the images failed:\n" + "\n".join(tail))
        return time.monotonic() - started


def write_env_file(path: Path) -> dict[str, str]:
    """The project's .env for this run, as a user makes it: `.env.example` copied, every password set (generated),
    a cluster id of its own, and the stand-in images in place of the official ones (0600)."""
    values = read_env_file(ROOT / ".env.example")
    values.update(read_env_file(IMAGES))
    values.update({name: secrets.token_urlsafe(18) for name in REQUIRED})
    values["ELECTION_KAFKA_CLUSTER_ID"] = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return values


class ComposeProject:
    """docker-compose.yaml run as a user runs it, under a project name of its own, with its own .env."""

    def __init__(self, engine: Engine, env_file: Path) -> None:
        self.engine, self.env_file = engine, env_file

    def run(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [COMPOSE, "--project-name", PROJECT, "--env-file", str(self.env_file)]
        command += ["--file", str(ROOT / "docker-compose.yaml"), *args]
        result = subprocess.run(
            command, env=self.engine.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            output = result.stdout[-3000:] + result.stderr[-3000:]
            raise EngineError(f"docker-compose {' '.join(args)} failed:\n{output}")
        return result

    def containers(self) -> list[dict]:
        ids = self.engine.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}").stdout.split()
        return json.loads(self.engine.docker("inspect", *ids).stdout) if ids else []

    @staticmethod
    def service(container: dict) -> str:
        return container["Config"]["Labels"]["com.docker.compose.service"]

    def problems(self) -> dict[str, str]:
        """Each service not (yet) as it should be: running and healthy, or (airflow-init) exited 0."""
        found: dict[str, str] = {}
        for container in self.containers():
            state, name = container["State"], self.service(container)
            if name == "airflow-init":
                if state["Status"] != "exited" or state["ExitCode"] != 0:
                    found[name] = f"{state['Status']} (exit code {state['ExitCode']})"
            elif state["Status"] != "running":
                found[name] = f"{state['Status']} (exit code {state['ExitCode']})"
            elif state.get("Health", {}).get("Status", "healthy") != "healthy":
                found[name] = state["Health"]["Status"]
        return found

    def wait_healthy(self, services: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            running = {self.service(c) for c in self.containers()}
            problems = self.problems()
            missing = set(services) - running
            if not problems and not missing:
                return
            if time.monotonic() > deadline:
                raise EngineError(f"not healthy after {timeout:.0f} s: {problems or ''} {sorted(missing) or ''}")
            time.sleep(2)

    def logs(self, service: str, tail: int = 150) -> str:
        return self.run("logs", "--no-color", "--tail", str(tail), service, check=False).stdout

    def down(self) -> None:
        # Compose's own default grace (10 s): what outlives it (the Celery worker whose task is the running stream) is
        # killed, as on a user's `docker compose down`; the volumes go anyway.
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)
