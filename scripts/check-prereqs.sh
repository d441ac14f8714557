#!/usr/bin/env bash
# Checks what a user must bring before `make demo` / `make test`: Python >= 3.11, Java 17+ and Maven.
# Everything else (Python packages, Kafka and Spark jars) is installed by the Makefile.
set -u
python=${PYTHON:-python3}
missing=0

if ! command -v "$python" >/dev/null 2>&1; then
  echo "missing: $python. Install Python 3.11 or newer (e.g. apt-get install python3 python3-venv, or pyenv)."
  missing=1
elif ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "too old: $("$python" --version 2>&1). Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11."
  missing=1
elif ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "missing: the venv module of $python (e.g. apt-get install python3-venv)."
  missing=1
fi

if ! command -v java >/dev/null 2>&1 && [ ! -x "${JAVA_HOME:-/nonexistent}/bin/java" ]; then
  echo "missing: java. Install a JDK or JRE 17+ (e.g. apt-get install openjdk-17-jre-headless)."
  missing=1
else
  java_bin=java
  [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ] && java_bin="$JAVA_HOME/bin/java"
  major=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    echo "too old: Java ${major:-unknown}. Kafka 4 and Spark 4 need Java 17+ (set JAVA_HOME to it)."
    missing=1
  fi
fi

if ! command -v mvn >/dev/null 2>&1; then
  echo "missing: mvn. Install Maven 3.6+ (e.g. apt-get install maven); it resolves the Kafka and Spark jars."
  missing=1
fi

if [ "$missing" -ne 0 ]; then
  echo "Install what is listed above, then run make again."
  exit 1
fi
