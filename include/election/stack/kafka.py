"""The Apache Kafka broker of the local stack: one node in KRaft mode (broker and controller), no ZooKeeper.

Its jars come from Maven Central (`maven/kafka-broker/pom.xml`, see scripts/fetch-jars.sh). State lives in
`.local/kafka/`; the cluster id is generated once and kept there, so `make down && make up` keeps topics.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from election.config import Settings
from election.stack.process import Service, StackError

LOG4J_CONFIG = Path(__file__).with_name("kafka-log4j2.properties")


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise StackError("java not found: install Java 17+ (e.g. `apt-get install openjdk-17-jre-headless`).")
    return found


def server_properties(settings: Settings, log_dir: Path) -> str:
    """Broker settings for a single node: every replication factor and ISR is 1."""
    port, controller = settings.kafka_port, settings.kafka_controller_port
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@localhost:{controller}",
        "listeners": f"PLAINTEXT://localhost:{port},CONTROLLER://localhost:{controller}",
        "advertised.listeners": f"PLAINTEXT://localhost:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Consumers in tests and DAGs join groups often; no point waiting for more members on one node.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created explicitly by `make up`: a typo in a topic name fails loudly.
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
        "log.cleaner.backoff.ms": "5000",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


class Kafka:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "kafka"
        self.data_dir = self.root / "data"
        self.properties = self.root / "server.properties"
        self.cluster_id_file = self.root / "cluster-id"
        self.service = Service(
            name="kafka",
            command=[],  # built at start: the jars may only be resolved by then
            run_dir=settings.state_dir / "run",
            log_dir=settings.state_dir / "logs",
            health=self.healthy,
            port=settings.kafka_port,
            port_variable="ELECTION_KAFKA_PORT",
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

    def prepare(self) -> None:
        """Write the broker settings (ports may change between runs) and format storage on first run."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(server_properties(self.settings, self.data_dir))
        if (self.data_dir / "meta.properties").exists():
            return
        if not self.cluster_id_file.exists():
            # Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding.
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            self.cluster_id_file.write_text(cluster_id)
        cluster_id = self.cluster_id_file.read_text().strip()
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.properties),
            "--ignore-formatted",
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def start(self) -> bool:
        if self.service.process() is not None:
            return False
        self.prepare()
        self.service.command = self._java("kafka.Kafka", str(self.properties), heap=self.settings.kafka_heap)
        return self.service.start()

    def healthy(self) -> bool:
        admin = AdminClient(self.settings.kafka_client_config())
        metadata = admin.list_topics(timeout=3)
        return len(metadata.brokers) > 0
