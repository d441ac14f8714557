"""Resolve the Java jars the stack needs, at install time, from the poms pinned under `maven/`.

`mvn dependency:copy-dependencies` fills `.local/jars/<name>/` from Maven Central (through the usual `~/.m2`
cache). A stamp of the pom's hash makes a second run free. For the Kafka broker only, machines without Maven
fall back to the release archive on archive.apache.org (not reachable from every network).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

from election.config import Settings
from localstack.process import StackError

KAFKA_ARCHIVE = "https://archive.apache.org/dist/kafka/{version}/kafka_2.13-{version}.tgz"


def _pom(settings: Settings, name: str) -> Path:
    return settings.home / "maven" / name / "pom.xml"


def _stamp(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _is_current(dest: Path, pom: Path) -> bool:
    stamp = dest / ".pom.sha256"
    return stamp.exists() and stamp.read_text() == _stamp(pom) and any(dest.glob("*.jar"))


def pom_property(pom: Path, name: str) -> str:
    match = re.search(rf"<{re.escape(name)}>([^<]+)</{re.escape(name)}>", pom.read_text())
    if not match:
        raise StackError(f"{pom} has no <{name}> property")
    return match.group(1).strip()


def _maven_copy(pom: Path, dest: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("mvn not found: install Maven (e.g. `apt-get install maven`).")
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={dest}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"mvn could not resolve {pom}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")


def _kafka_from_archive(version: str, dest: Path) -> None:
    url = KAFKA_ARCHIVE.format(version=version)
    with urllib.request.urlopen(url, timeout=600) as response:  # noqa: S310 - fixed https URL
        payload = response.read()
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and "/libs/" in member.name and member.name.endswith(".jar"):
                extracted = archive.extractfile(member)
                assert extracted is not None
                (dest / Path(member.name).name).write_bytes(extracted.read())


def resolve(settings: Settings, name: str, dest: Path) -> bool:
    """Make `dest` hold the jars of `maven/<name>/pom.xml`; False when it already did."""
    pom = _pom(settings, name)
    if _is_current(dest, pom):
        return False
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        _maven_copy(pom, dest)
    except StackError as maven_error:
        if name != "kafka-broker":
            raise
        version = pom_property(pom, "kafka.version")
        try:
            _kafka_from_archive(version, dest)
        except OSError as download_error:
            raise StackError(
                f"{maven_error}\nThe fallback download of Kafka {version} from archive.apache.org "
                f"failed too: {download_error}"
            ) from None
    (dest / ".pom.sha256").write_text(_stamp(pom))
    return True


def resolve_all(settings: Settings) -> dict[str, bool]:
    return {
        "kafka-broker": resolve(settings, "kafka-broker", settings.kafka_jars_dir),
        "spark-kafka-connector": resolve(settings, "spark-kafka-connector", settings.spark_jars_dir),
    }
