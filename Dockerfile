# The platform's image for Docker Compose: Airflow (api-server, scheduler, dag-processor, triggerer), the
# spark-submit client with the Kafka connector jars, and the Streamlit dashboard. Everything is installed at
# build time (PyPI, Maven Central, Debian); nothing is downloaded when a service or a Spark job starts.
#
# Behind a TLS-intercepting proxy, give the build the proxy's CA bundle as the secret `ca_bundle` (`make
# docker-images` does, from SSL_CERT_FILE / PIP_CERT): apt, pip and Maven trust it during the build only.
# PYTHON_IMAGE: the base (a test builds on a stand-in made without any registry, docker/offline/python).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE}

# Java for spark-submit (the Spark driver runs in the scheduler's task), Maven to resolve the pinned jars.
RUN --mount=type=secret,id=ca_bundle --mount=type=bind,source=docker/with-ca-bundle,target=/usr/local/bin/with-ca-bundle \
    with-ca-bundle sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
       --no-install-recommends openjdk-17-jre-headless maven procps' \
    && rm -rf /var/lib/apt/lists/*

ENV ELECTION_HOME=/opt/election \
    ELECTION_STATE_DIR=/opt/election/.local \
    ELECTION_JARS_DIR=/opt/election-jars \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

WORKDIR /opt/election

# The full lock first: this layer is reused until requirements.txt changes.
COPY requirements.txt ./
RUN --mount=type=secret,id=ca_bundle --mount=type=bind,source=docker/with-ca-bundle,target=/usr/local/bin/with-ca-bundle \
    with-ca-bundle python -m pip install --requirement requirements.txt

COPY pyproject.toml ./
COPY include/ include/
COPY localstack/ localstack/
RUN python -m pip install --no-deps --no-build-isolation --editable .

# The Kafka connector and its dependencies from Maven Central, from the pinned poms (outside the state volume).
COPY maven/ maven/
RUN --mount=type=secret,id=ca_bundle --mount=type=bind,source=docker/with-ca-bundle,target=/usr/local/bin/with-ca-bundle \
    with-ca-bundle python -m localstack jars && rm -rf /root/.m2

COPY dags/ dags/
COPY plugins/ plugins/
COPY spark_jobs/ spark_jobs/
COPY dashboard/ dashboard/

RUN useradd --create-home --uid 50000 election \
    && mkdir -p /opt/election/.local/checkpoints \
    && chown -R election /opt/election/.local
USER election

ENTRYPOINT ["python", "-m", "localstack", "container"]
