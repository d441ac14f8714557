"""`python -m localstack up|down|status|logs|clean|watch|airflow|container ...` — what the Makefile targets (and the
Docker Compose services) run."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from election import kafka_access
from election.config import Settings, get_settings
from election.kafka_topics import ensure_topics
from localstack import airflow, credentials, dashboard, jars, kafka, spark, state, topology, watchdog
from localstack.postgres import Postgres
from localstack.process import Service, StackError, tail


def _say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def _started(name: str, done: bool | str | None) -> None:
    """What `up` did to a service: started it, restarted it (it ran, but stayed unhealthy), or nothing."""
    _say(f"{name}: {'started' if done is True else done or 'already running'}")


def up(settings: Settings) -> None:
    t0 = time.monotonic()
    state.claim(settings)
    settings, generated = credentials.ensure(settings)
    if generated:
        _say(f"credentials: generated {len(generated)} passwords into {settings.credentials_file}")
        # Services already running were started with the previous passwords: start them again with the new ones.
        for service in reversed(_all_services(settings)):
            if service.stop():
                _say(f"{service.name}: stopped, to start again with the new credentials")
    resolve_jars(settings)
    postgres = Postgres(settings)
    _say(f"profile: {settings.stack_profile} (state in {settings.state_dir})")
    # Kafka's JVMs warm up while PostgreSQL starts and Airflow migrates.
    for broker in kafka.nodes(settings):
        _started(broker.service.name, broker.start())
    _started("postgres", postgres.start())
    postgres.ensure_access(settings)
    airflow.write_admin_password(settings)
    if airflow.migrate(settings):
        _say("airflow: metadata database migrated")
    kafka.wait_healthy(settings)
    created = ensure_topics(settings)
    _say(f"kafka: healthy; topics created: {', '.join(created) if created else 'none (all exist)'}")
    _say(f"kafka: principals and ACLs applied: {', '.join(kafka_access.apply(settings))}")
    # Everything after Kafka starts at once and is then waited for: the JVMs and Pythons warm up side by side.
    services = [s for s in topology.services(settings) if not s.name.startswith("kafka")]
    for service in services:
        _started(service.name, service.ensure_started())
    for service in services:
        service.wait_healthy()
        _say(f"{service.name}: healthy")
    _started("watchdog", watchdog.service(settings).ensure_started())
    _say(f"up in {time.monotonic() - t0:.0f}s")
    _print_access(settings)


def resolve_jars(settings: Settings) -> None:
    for name, resolved in jars.resolve_all(settings).items():
        if resolved:
            _say(f"jars: resolved {name}")


def _print_access(settings: Settings) -> None:
    print()
    print(
        f"  Airflow UI   {settings.airflow_url}   user {settings.airflow_admin_user}  password "
        f"{airflow.admin_password(settings) or '(created by make up)'}"
    )
    if dashboard.app_path(settings).exists():
        print(f"  Dashboard    {settings.dashboard_url}")
    print(
        f"  PostgreSQL   {settings.election_db.host}:{settings.election_db.port}  "
        f"databases {settings.election_db.name}, {settings.airflow_db.name}"
    )
    print(f"  Kafka        {settings.kafka_bootstrap}  (replication factor {settings.kafka_replication_factor})")
    if spark.services(settings):
        print(f"  Spark        {settings.spark_master}  master UI http://localhost:{settings.spark_master_ui_port}")
    print(
        f"  Executor     {settings.airflow_executor}"
        + (f" ({settings.celery_workers} workers)" if settings.celery_workers else "")
    )
    print()


def _all_services(settings: Settings) -> list[Service]:
    return [*topology.services(settings), watchdog.service(settings)]  # the watchdog stops first


def _stop(service: Service) -> None:
    began = time.monotonic()
    if service.stop():
        _say(f"{service.name}: stopped ({time.monotonic() - began:.0f}s)")


def down(settings: Settings) -> None:
    # Reverse order of start: nothing is left talking to a database or broker that already stopped. The brokers of a
    # cluster stop together: one by one, the last would wait out its stop timeout for a controller quorum that the
    # others took with them.
    services = list(reversed(_all_services(settings)))
    brokers = [service for service in services if service.name.startswith("kafka")]
    for service in services:
        if service not in brokers:
            _stop(service)
        elif service is brokers[0]:
            with ThreadPoolExecutor(max_workers=len(brokers)) as pool:
                list(pool.map(_stop, brokers))
    began = time.monotonic()
    if Postgres(settings).stop():
        _say(f"postgres: stopped ({time.monotonic() - began:.0f}s)")
    _say("down (data kept in .local/; `make clean` deletes it)")


def memory_mb(proc: psutil.Process) -> tuple[float, float]:
    """Resident memory of a service and its child processes: (RSS, PSS) in MiB.

    RSS counts pages shared between forked workers once per process; PSS splits them, so PSS sums to what
    the service really costs the machine.
    """
    rss = pss = 0
    for member in [proc, *proc.children(recursive=True)]:
        try:
            info = member.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss / 2**20, pss / 2**20


def status(settings: Settings) -> int:
    pg_pid = Postgres(settings).pid()
    procs = [("postgres", psutil.Process(pg_pid) if pg_pid else None)]
    procs += [(service.name, service.process()) for service in _all_services(settings)]
    print(f"{'service':<24}{'state':<10}{'pid':>8}{'RSS MiB':>10}{'PSS MiB':>10}")
    totals = [0.0, 0.0]
    for name, proc in procs:
        if proc is None:
            print(f"{name:<24}{'stopped':<10}")
            continue
        rss, pss = memory_mb(proc)
        totals = [totals[0] + rss, totals[1] + pss]
        print(f"{name:<24}{'running':<10}{proc.pid:>8}{rss:>10.0f}{pss:>10.0f}")
    print(f"{'total':<42}{totals[0]:>10.0f}{totals[1]:>10.0f}")
    running = sum(1 for _, proc in procs if proc is not None)
    _print_access(settings)
    return 0 if running == len(procs) else 3


def logs(settings: Settings, name: str | None, lines: int) -> None:
    log_dir = settings.state_dir / "logs"
    files = sorted(log_dir.glob("*.log")) if log_dir.exists() else []
    if name:
        files = [f for f in files if f.stem == name]
        if not files:
            raise StackError(f"no log for {name!r} in {log_dir}")
    for path in files:
        print(f"==> {path} <==")
        print(tail(path, lines))
        print()


def clean(settings: Settings) -> None:
    down(settings)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    _say(f"deleted {settings.state_dir}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start whatever is not running and wait until healthy")
    sub.add_parser("down", help="stop the processes the stack started, keeping data")
    sub.add_parser("status", help="state, pid and resident memory of each service")
    logs_parser = sub.add_parser("logs", help="the last lines of each service's log")
    logs_parser.add_argument("service", nargs="?")
    logs_parser.add_argument("-n", "--lines", type=int, default=40)
    sub.add_parser("clean", help="stop everything and delete .local/")
    sub.add_parser("watch", help="the watchdog: restart a service that died or stays unhealthy (make up starts it)")
    sub.add_parser("topics", help="create missing Kafka topics")
    sub.add_parser("jars", help="resolve the Kafka broker and Spark connector jars with Maven")
    airflow_parser = sub.add_parser("airflow", help="run the airflow CLI with the stack's environment")
    airflow_parser.add_argument("args", nargs=argparse.REMAINDER)
    container_parser = sub.add_parser("container", help="what a Docker Compose service runs (see container.py)")
    container_parser.add_argument("role", choices=["init", "airflow", "dashboard"])
    container_parser.add_argument("component", nargs="?", help="for airflow: api-server, scheduler, ...")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "up":
            up(settings)
        elif args.command == "down":
            down(settings)
        elif args.command == "status":
            return status(settings)
        elif args.command == "logs":
            logs(settings, args.service, args.lines)
        elif args.command == "watch":
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
            logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health probe
            watchdog.watch(settings)
        elif args.command == "clean":
            clean(settings)
        elif args.command == "jars":
            resolve_jars(settings)
        elif args.command == "topics":
            print("\n".join(ensure_topics(settings)) or "all topics exist")
        elif args.command == "container":
            from localstack import container

            if args.role == "init":
                container.init(settings)
            elif args.role == "airflow":
                container.exec_airflow(settings, args.component or "")
            else:
                container.exec_dashboard(settings)
        elif args.command == "airflow":
            result = airflow.airflow_cli(settings, *args.args, timeout=3600)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            return result.returncode
    except StackError as exc:
        print(f"[stack] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
