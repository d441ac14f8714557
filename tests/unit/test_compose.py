"""docker-compose.yaml, checked statically: the services, their healthchecks and the depends_on chain, pinned images
matching the local stack's versions, paths that exist, no secret in the file and none with a default, and nothing
published beyond 127.0.0.1."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())  # resolves the anchors and `<<` merges
SERVICES: dict[str, dict] = COMPOSE["services"]
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
WORKERS = ("airflow-worker-1", "airflow-worker-2")
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
SPARK_WORKERS = ("spark-worker-1", "spark-worker-2")


def test_the_services_of_the_platform() -> None:
    """The cluster profile's topology: three brokers, Redis, a Spark master and two workers, two Celery workers."""
    assert set(SERVICES) == {
        "postgres",
        *BROKERS,
        "redis",
        "spark-master",
        *SPARK_WORKERS,
        "airflow-init",
        *AIRFLOW,
        *WORKERS,
        "dashboard",
    }


@pytest.mark.parametrize("name", sorted(set(SERVICES) - {"airflow-init"}))
def test_every_long_running_service_has_a_healthcheck(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert check.get("interval")
    assert check.get("retries")


def _depends(name: str) -> dict[str, str]:
    return {dep: spec["condition"] for dep, spec in SERVICES[name].get("depends_on", {}).items()}


def test_depends_on_is_gated_by_health_and_init_and_has_no_cycle() -> None:
    assert _depends("airflow-init") == {"postgres": "service_healthy", "redis": "service_healthy"} | {
        broker: "service_healthy" for broker in BROKERS
    }
    for name in (*AIRFLOW, *WORKERS, "dashboard"):
        assert _depends(name)["airflow-init"] == "service_completed_successfully", name
        assert _depends(name)["postgres"] == "service_healthy"
    for name in WORKERS:  # the stream's driver runs in a worker's task
        assert _depends(name)["spark-master"] == "service_healthy"
    for name in SPARK_WORKERS:  # after init, whose image gives the shared checkpoint volume its owner
        assert _depends(name) == {"spark-master": "service_healthy", "airflow-init": "service_completed_successfully"}
    for name in SERVICES:
        for dep, condition in _depends(name).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dep], f"{name} waits for {dep}'s health, which it has no check for"

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        for dep in _depends(name):
            visit(dep, (*path, name))

    for name in SERVICES:
        visit(name, ())


OFFICIAL_IMAGE = re.compile(r"\$\{(ELECTION_[A-Z]+_IMAGE):-([^}]+)\}")


def _image(reference: str) -> tuple[str, str]:
    """`${ELECTION_X_IMAGE:-official:tag}` -> (the variable, the official default)."""
    match = OFFICIAL_IMAGE.fullmatch(reference)
    assert match, f"{reference}: images are named through a variable with the official image as its default"
    return match.group(1), match.group(2)


def test_images_default_to_the_official_ones_pinned_and_match_the_local_stack() -> None:
    images = {name: _image(s["image"]) for name, s in SERVICES.items() if s["image"] != "election-platform:0.1.0"}
    images["python"] = _image(SERVICES["airflow-init"]["build"]["args"]["PYTHON_IMAGE"])
    for name, (_, image) in images.items():
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag != "latest"
        assert re.match(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"
    kafka_pom = (ROOT / "maven/kafka-broker/pom.xml").read_text()
    kafka_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", kafka_pom).group(1)
    for broker in BROKERS:
        assert images[broker] == ("ELECTION_KAFKA_IMAGE", f"apache/kafka:{kafka_version}")
    pyspark = importlib.metadata.version("pyspark")
    assert images["spark-master"][1].startswith(f"apache/spark:{pyspark}")
    for worker in SPARK_WORKERS:
        assert images[worker] == images["spark-master"]
    assert images["redis"][1].startswith("redis:7.")
    assert images["postgres"][1].startswith("postgres:18.")
    assert images["python"][1].startswith("python:3.11.")
    # each image has its offline stand-in (make test-compose), and the project's Dockerfile the same default base
    stand_ins = set(re.findall(r"^(ELECTION_[A-Z]+_IMAGE)=", (ROOT / "docker/offline/images.env").read_text(), re.M))
    assert {variable for variable, _ in images.values()} == stand_ins
    assert f"ARG PYTHON_IMAGE={images['python'][1]}" in (ROOT / "Dockerfile").read_text()
    example = dict(re.findall(r"^(ELECTION_[A-Z]+_IMAGE)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    assert example == dict(images.values()), ".env.example shows each image's default"


def _kafka_property(variable: str) -> str:
    """The official image's rule (kafka.docker.KafkaDockerWrapper): `.` -> `_`, `_` -> `__`, `-` -> `___`."""
    return variable.removeprefix("KAFKA_").lower().replace("_", ".").replace("...", "-").replace("..", "_")


def test_the_kafka_variables_name_real_broker_properties() -> None:
    environment = SERVICES["kafka-1"]["environment"]
    properties = {_kafka_property(key) for key in environment if key.startswith("KAFKA_") and key != "KAFKA_HEAP_OPTS"}
    for listener in ("internal", "external"):
        assert f"listener.name.{listener}.scram-sha-512.sasl.jaas.config" in properties
        assert f"listener.name.{listener}.plain.sasl.jaas.config" in properties
    assert {"sasl.enabled.mechanisms", "super.users", "log.dirs", "node.id"} <= properties
    # the controller listener authenticates with PLAIN only (SCRAM's credentials live in the metadata it serves)
    assert environment["KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS"] == "PLAIN"


def test_the_airflow_services_share_one_anchor_built_from_the_repo() -> None:
    for name in (*AIRFLOW, *WORKERS, "airflow-init", "dashboard"):
        service = SERVICES[name]
        assert service["image"] == "election-platform:0.1.0"
        assert service["build"]["context"] == "."
        assert service["environment"]["ELECTION_SPARK_MASTER"] == "spark://spark-master:7077"
        assert service["environment"]["ELECTION_KAFKA_BOOTSTRAP"] == "kafka-1:19092,kafka-2:19092,kafka-3:19092"
        assert service["environment"]["ELECTION_KAFKA_REPLICATION_FACTOR"] == "3"
        assert service["environment"]["ELECTION_CELERY_WORKERS"] == "2"  # the CeleryExecutor
    assert [SERVICES[n]["command"] for n in WORKERS] == [["airflow", "celery-worker"]] * 2
    assert [SERVICES[n]["hostname"] for n in WORKERS] == list(WORKERS), "executors reach the driver by name"
    assert SERVICES["airflow-init"]["command"] == ["init"]
    assert [SERVICES[n]["command"] for n in AIRFLOW] == [
        ["airflow", "api-server"],
        ["airflow", "scheduler"],
        ["airflow", "dag-processor"],
        ["airflow", "triggerer"],
    ]


def test_the_ports_are_the_local_stacks_on_localhost_only() -> None:
    published = {name: [str(p) for p in service.get("ports", [])] for name, service in SERVICES.items()}
    assert published["airflow-apiserver"] == ["127.0.0.1:${ELECTION_AIRFLOW_PORT:-8080}:${ELECTION_AIRFLOW_PORT:-8080}"]
    assert published["dashboard"] == ["127.0.0.1:${ELECTION_DASHBOARD_PORT:-8501}:${ELECTION_DASHBOARD_PORT:-8501}"]
    assert published["postgres"] == ["127.0.0.1:${ELECTION_DB_PORT:-5432}:5432"]
    assert [published[b] for b in BROKERS] == [
        ["127.0.0.1:${ELECTION_KAFKA_PORT:-9092}:9092"],
        ["127.0.0.1:9192:9092"],
        ["127.0.0.1:9292:9092"],
    ]
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    for name in ("spark-master", *SPARK_WORKERS, "redis", *WORKERS):
        assert not published[name], f"{name} must not be published (Spark runs any code submitted to it)"


def test_no_password_has_a_default() -> None:
    """Every password is required (`${VAR:?message}`): none silently falls back to a built-in value."""
    text = (ROOT / "docker-compose.yaml").read_text()
    references = re.findall(r"(?<!\$)\$\{([A-Z_]*PASSWORD[A-Z_]*)(:?[-?])?", text)
    assert references, "the scan must see the passwords"
    defaulted = sorted({name for name, operator in references if operator != ":?"})
    assert defaulted == [], f"passwords with a default or none required: {defaulted}"
    needed = set(
        re.findall(r"^(ELECTION_[A-Z_]*PASSWORD|AIRFLOW_ADMIN_PASSWORD)=", (ROOT / ".env.example").read_text(), re.M)
    )
    assert needed <= {name for name, _ in references}, "every password of .env.example is required by the file"


@pytest.mark.parametrize("broker", BROKERS)
def test_kafka_authenticates_every_listener_and_replicates(broker: str) -> None:
    environment = SERVICES[broker]["environment"]
    assert environment["KAFKA_NODE_ID"] == int(broker[-1])
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert (environment["KAFKA_DEFAULT_REPLICATION_FACTOR"], environment["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
    assert environment["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    protocols = dict(item.split(":") for item in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}
    assert environment["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert environment["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert SERVICES["airflow-init"]["environment"]["ELECTION_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"


def test_airflows_test_connection_feature_stays_off() -> None:
    text = (ROOT / "docker-compose.yaml").read_text() + (ROOT / "localstack/airflow.py").read_text()
    assert "TEST_CONNECTION" not in text


def test_every_path_it_builds_or_mounts_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    assert (ROOT / ".env.example").exists()


def test_no_secret_in_the_file_and_every_variable_is_documented() -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|KEY", key) and key != "KAFKA_NODE_ID":
                assert str(value).startswith("${"), f"{name}.{key} holds a literal value"
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))  # $${...} is the container's own variable
    assert used <= documented, f"undocumented in .env.example: {sorted(used - documented)}"


DOCKERFILES = [ROOT / "Dockerfile", *sorted((ROOT / "docker/offline").glob("*/Dockerfile"))]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_download_in_a_build_trusts_the_ca_bundle_secret(dockerfile: Path) -> None:
    """apt, pip and Maven run through docker/with-ca-bundle with the build secret mounted (a TLS-intercepting proxy's
    CA), so the bundle is trusted during the step and never stored in a layer."""
    steps = re.split(r"\n(?=[A-Z]+ )", dockerfile.read_text())
    fetches = re.compile(r"apt-get|pip install (?!--no-deps --no-build-isolation)|mvn |localstack jars")  # not: local
    downloads = [s for s in steps if s.startswith("RUN ") and fetches.search(s)]
    assert downloads, f"{dockerfile} downloads nothing?"
    for step in downloads:
        assert "--mount=type=secret,id=ca_bundle" in step, step
        assert "target=/usr/local/bin/with-ca-bundle" in step, step
        assert "with-ca-bundle " in step.split("\\\n", 1)[1], step
    # the secret is only ever read inside with-ca-bundle, during a step: no Dockerfile copies or reads it
    assert "/run/secrets" not in dockerfile.read_text()


def test_in_a_container_the_spark_driver_listens_on_the_containers_address() -> None:
    """The local stack pins Spark to 127.0.0.1; a Compose worker must not, or the executors dial their own loopback."""
    from election.config import get_settings
    from localstack import airflow, container

    settings = get_settings()
    assert airflow.airflow_environment(settings)["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert "SPARK_LOCAL_IP" not in container.airflow_environment(settings)


def test_every_setting_the_file_uses_reaches_the_platforms_containers() -> None:
    """A variable the file uses (a published port, a health check, the brokers' admin) and the platform reads must
    reach its containers too, with the same default, or the two disagree once a user sets it."""
    text = (ROOT / "docker-compose.yaml").read_text()
    used = dict(re.findall(r"(?<!\$)\$\{(ELECTION_[A-Z_]+):-([^}]*)\}", text))
    host_side = {"ELECTION_DB_PORT", "ELECTION_KAFKA_PORT", "ELECTION_KAFKA_CLUSTER_ID"}  # host ports; the brokers'
    environment = SERVICES["airflow-init"]["environment"]
    for variable, default in used.items():
        if variable.endswith("_IMAGE") or variable in host_side:
            continue
        assert environment.get(variable) == f"${{{variable}:-{default}}}", f"{variable} does not reach the containers"
