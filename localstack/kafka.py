"""The Apache Kafka brokers of the local stack in KRaft mode (each node a broker and a controller), no ZooKeeper:
one node in the single profile, three (ELECTION_KAFKA_NODES) forming one controller quorum in the cluster profile.

Their jars come from Maven Central (`maven/kafka-broker/pom.xml`). State lives in `.local/kafka/` (one node) or
`<state>/kafka/node-<n>/`; the cluster id is generated once and kept in `<state>/kafka/cluster-id`, so
`make down && make up` keeps topics.

Every client authenticates (SASL/SCRAM-SHA-512 on localhost:9092; the controller listener, localhost:9093, takes
the admin over SASL/PLAIN) and is authorized by ACLs (StandardAuthorizer; the admin is the only super user). The
admin's SCRAM credential is written when the storage is formatted; storage formatted without it (before
authentication existed here), or an admin password changed since, is brought up to date once by a short start on
the old plaintext localhost listener (`_bootstrap_admin`). The other principals and their ACLs are applied by
`make up` (election.kafka_access).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from election.config import Settings
from localstack.process import Service, StackError, wait_until

LOG4J_CONFIG = Path(__file__).with_name("kafka-log4j2.properties")


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise StackError("java not found: install Java 17+ (e.g. `apt-get install openjdk-17-jre-headless`).")
    return found


def _jaas(module: str, username: str, password: str, **users: str) -> str:
    pairs = {"username": username, "password": password, **users}
    entries = " ".join(f'{key}="{value}"' for key, value in pairs.items())
    return f"org.apache.kafka.common.security.{module} required {entries};"


def security_properties(settings: Settings) -> dict[str, str]:
    """SASL on every listener, ACLs with the admin as the only super user."""
    admin = settings.kafka_admin
    user, password = admin.username or "", admin.password or ""
    return {
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config": _jaas("scram.ScramLoginModule", user, password),
        # The controller listener cannot use SCRAM (its credentials live in the metadata it serves): PLAIN, one user.
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(
            "plain.PlainLoginModule", user, password, **{f"user_{user}": password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{user}",
        "allow.everyone.if.no.acl.found": "false",
    }


PLAINTEXT_LISTENERS = {"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,CLIENT:PLAINTEXT"}


def server_properties(settings: Settings, log_dir: Path, *, node: int = 1, secured: bool = True) -> str:
    """Settings of broker `node` (1-based). The internal topics are replicated like the application's
    (ELECTION_KAFKA_REPLICATION_FACTOR, ELECTION_KAFKA_MIN_INSYNC_REPLICAS: 1 and 1 on one node, 3 and 2 on three).
    `secured=False`: the plaintext localhost listener of a bootstrap (no authentication, no ACLs), for a moment."""
    ports = settings.kafka_node_ports()
    port, controller = ports[node - 1]
    replicas, min_isr = str(settings.kafka_replication_factor), str(settings.kafka_min_insync_replicas)
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": ",".join(f"{n}@localhost:{c}" for n, (_, c) in enumerate(ports, start=1)),
        "listeners": f"CLIENT://localhost:{port},CONTROLLER://localhost:{controller}",
        "advertised.listeners": f"CLIENT://localhost:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        **(security_properties(settings) if secured else PLAINTEXT_LISTENERS),
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        # A replica that fell out of sync never becomes leader: an acknowledged write is never lost to an election.
        "unclean.leader.election.enable": "false",
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        # Consumers in tests and DAGs join groups often; no point waiting for more members on one node.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created explicitly by `make up`: a typo in a topic name fails loudly.
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
        "log.cleaner.backoff.ms": "5000",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def nodes(settings: Settings) -> list[Kafka]:
    """Every broker of the local stack, in node order."""
    return [Kafka(settings, node) for node in range(1, settings.kafka_nodes + 1)]


def wait_healthy(settings: Settings) -> None:
    """Every broker answers, and the cluster's metadata lists them all."""
    brokers = nodes(settings)
    for broker in brokers:
        broker.service.wait_healthy()
    admin = AdminClient(settings.kafka_client_config())
    wait_until(
        lambda: len(admin.list_topics(timeout=3).brokers) == len(brokers),
        timeout=120,
        what=f"kafka ({len(brokers)} brokers registered)",
    )


class Kafka:
    """One broker (and controller) of the local stack."""

    def __init__(self, settings: Settings, node: int = 1) -> None:
        self.settings = settings
        self.node = node
        single = settings.kafka_nodes == 1
        self.root = settings.state_dir / "kafka" / ("" if single else f"node-{node}")
        self.data_dir = self.root / "data"
        self.properties = self.root / "server.properties"
        self.cluster_id_file = settings.state_dir / "kafka" / "cluster-id"
        self.port = settings.kafka_node_ports()[node - 1][0]
        self.service = Service(
            name="kafka" if single else f"kafka-{node}",
            command=[],  # built at start: the jars may only be resolved by then
            run_dir=settings.state_dir / "run",
            log_dir=settings.state_dir / "logs",
            health=self.healthy,
            port=self.port,
            port_variable="ELECTION_KAFKA_PORT",
            prepare=self._before_start,
            start_timeout=120,
        )

    def _classpath(self) -> str:
        jars_dir = self.settings.kafka_jars_dir
        if not any(jars_dir.glob("kafka_*.jar")):
            raise StackError(f"Kafka jars missing in {jars_dir}: run `make jars` (needs Maven).")
        return f"{jars_dir}/*"

    def _java(self, main_class: str, *args: str, heap: str | None = None) -> list[str]:
        memory = [f"-Xms{heap}", f"-Xmx{heap}"] if heap else ["-Xmx256m"]
        return [
            java_executable(),
            *memory,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            self._classpath(),
            main_class,
            *args,
        ]

    def _write_properties(self, *, secured: bool = True) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(server_properties(self.settings, self.data_dir, node=self.node, secured=secured))
        self.properties.chmod(0o600)  # it holds the admin's password

    def _admin_fingerprint(self) -> str:
        admin = self.settings.kafka_admin
        return hashlib.sha256(f"{admin.username}\0{admin.password}".encode()).hexdigest()

    def prepare(self) -> None:
        """Write the broker settings (ports may change between runs) and format storage on first run, with the
        admin's SCRAM credential."""
        self._write_properties()
        if (self.data_dir / "meta.properties").exists():
            return
        if not self.cluster_id_file.exists():
            # Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding.
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            self.cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            self.cluster_id_file.write_text(cluster_id)
        cluster_id = self.cluster_id_file.read_text().strip()
        admin = self.settings.kafka_admin
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.properties),
            "--add-scram",
            f"SCRAM-SHA-512=[name={admin.username},password={admin.password}]",
            "--ignore-formatted",
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")
        self.admin_marker.write_text(self._admin_fingerprint())

    @property
    def admin_marker(self) -> Path:
        """Which admin credential the broker's metadata holds (a hash, not the password)."""
        return self.root / "admin-credential.sha256"

    def _bootstrap_admin(self) -> None:
        """Storage formatted without the admin's credential, or with an admin password changed since: start once on
        the plaintext localhost listener, set the credential, stop."""
        from election.kafka_access import admin_credential

        if self.settings.kafka_nodes > 1:
            raise StackError(
                f"{self.service.name}: its storage holds another admin credential than ELECTION_KAFKA_PASSWORD; a "
                "cluster's admin is set when its storage is formatted (`make clean PROFILE=cluster` starts anew)."
            )

        self._write_properties(secured=False)
        self.service.command = self._java("kafka.Kafka", str(self.properties), heap=self.settings.kafka_heap)
        self.service.prepare = None  # this start only: the broker's own settings are written above
        try:
            self.service.start()
        finally:
            self.service.prepare = self._before_start
        plain = {"bootstrap.servers": f"localhost:{self.port}"}
        try:
            wait_until(
                lambda: len(AdminClient(plain).list_topics(timeout=3).brokers) > 0,
                timeout=120,
                what="kafka (credential bootstrap)",
                log_file=self.service.log_file,
                alive=lambda: self.service.process() is not None,
            )
            client = AdminClient(plain)  # kept alive until its future is resolved
            for future in client.alter_user_scram_credentials([admin_credential(self.settings)]).values():
                future.result(30)
        finally:
            self.service.stop()
        self.admin_marker.write_text(self._admin_fingerprint())

    def _before_start(self) -> None:
        """Storage formatted, the admin's credential current, the command built (the jars may only now exist)."""
        self.prepare()
        if not self.admin_marker.exists() or self.admin_marker.read_text() != self._admin_fingerprint():
            self._bootstrap_admin()
            self._write_properties()
        self.service.command = self._java("kafka.Kafka", str(self.properties), heap=self.settings.kafka_heap)

    def start(self) -> bool:
        return self.service.start()

    def healthy(self) -> bool:
        """This broker answers an authenticated metadata request, and counts itself in the cluster."""
        # quiet: while a broker starts, every refused connection would be a line on `make up`'s output
        admin = AdminClient(
            self.settings.kafka_client_config(**{"bootstrap.servers": f"localhost:{self.port}", "log_level": 0})
        )
        metadata = admin.list_topics(timeout=3)
        return self.node in metadata.brokers
