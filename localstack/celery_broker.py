"""Redis, the Celery broker of the cluster profile's CeleryExecutor: Debian's `redis-server` (installed by
`make setup PROFILE=cluster`), on localhost, with a generated password (ELECTION_REDIS_PASSWORD).

Append-only persistence in `<state>/redis/`: a task queued when Redis stops is still queued when it is back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from election.config import Settings
from localstack.process import Service, StackError


def _require_executable() -> None:
    if not shutil.which("redis-server"):
        raise StackError(
            "redis-server not found: the cluster profile's Celery broker is Debian's redis-server "
            "(`make setup PROFILE=cluster` installs it; or `apt-get install redis-server`)."
        )


def _ping(settings: Settings) -> bool:
    client = redis.Redis(host="127.0.0.1", port=settings.redis_port, password=settings.redis_password, socket_timeout=3)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _config(settings: Settings) -> Path:
    return settings.state_dir / "redis" / "redis.conf"


def write_config(settings: Settings) -> None:
    """Redis's settings, written before each start (ports and password may have changed)."""
    _require_executable()
    config = _config(settings)
    data = config.parent
    data.mkdir(parents=True, exist_ok=True)
    # The password in a file only its owner reads, not on the command line (`ps` shows that to every user).
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {settings.redis_port}",
                f'requirepass "{settings.redis_password}"',
                f"dir {data}",
                "appendonly yes",
                'save ""',
                "daemonize no",
                "",
            ]
        )
    )
    config.chmod(0o600)


def service(settings: Settings) -> Service | None:
    """None in the single profile (the LocalExecutor needs no broker)."""
    if settings.celery_workers < 1:
        return None
    return Service(
        name="redis",
        command=["redis-server", str(_config(settings))],
        run_dir=settings.state_dir / "run",
        log_dir=settings.state_dir / "logs",
        health=lambda: _ping(settings),
        prepare=lambda: write_config(settings),
        port=settings.redis_port,
        port_variable="ELECTION_REDIS_PORT",
        start_timeout=30,
    )
