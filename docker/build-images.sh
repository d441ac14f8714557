#!/usr/bin/env bash
# docker/build-images.sh [--offline]: builds the project's image for docker-compose.yaml (election-platform:0.1.0)
# with BuildKit, trusting an extra CA bundle when one is set: ELECTION_CA_BUNDLE, else PIP_CERT, else SSL_CERT_FILE
# (a TLS-intercepting proxy's, as on many corporate networks). It reaches the build as the secret `ca_bundle`, used
# by apt, pip and Maven during the build only (docker/with-ca-bundle), never stored in an image.
#
# --offline: first the stand-ins of the official images, built with no registry at all (docker/offline/): a Debian
# bookworm root filesystem from debootstrap (Debian's packages), imported as the base image, then Python,
# PostgreSQL, Kafka, Spark and Redis on it; the project's image is then built on the Python stand-in. Builds use
# the host's network (the engine `make test-compose` starts has no bridge). Layers are cached by the engine: an
# unchanged image rebuilds in seconds.
#
# DOCKER: the docker CLI to use (default `docker`; it must build with BuildKit).
set -euo pipefail
cd "$(dirname "$0")/.."
docker=${DOCKER:-docker}
export DOCKER_BUILDKIT=1
offline=false
[ "${1:-}" = "--offline" ] && offline=true

if [ -n "${ELECTION_CA_BUNDLE:-}" ] && [ ! -s "$ELECTION_CA_BUNDLE" ]; then
  echo "ELECTION_CA_BUNDLE=$ELECTION_CA_BUNDLE: no such file, or empty" >&2
  exit 1
fi
ca=${ELECTION_CA_BUNDLE:-${PIP_CERT:-${SSL_CERT_FILE:-}}}
build_args=()
if [ -n "$ca" ] && [ -s "$ca" ]; then
  echo "build: trusting the CA bundle $ca"
  build_args+=(--secret "id=ca_bundle,src=$ca")
fi
project_args=()

if $offline; then
  # shellcheck source=offline/images.env
  set -a && . docker/offline/images.env && set +a
  base=election-offline/base:bookworm
  build_args+=(--network host --build-arg "BASE_IMAGE=$base" --build-arg "PYTHON_IMAGE=$ELECTION_PYTHON_IMAGE")
  if ! "$docker" image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/election-rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "build: $base from debootstrap (Debian bookworm, minbase)"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$rootfs.log" 2>&1 \
      || { tail -20 "$rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "$docker" import --change 'CMD ["bash"]' - "$base" >/dev/null
  fi
  for name in python postgres kafka spark redis; do
    var="ELECTION_${name^^}_IMAGE"
    echo "build: ${!var} (docker/offline/$name)"
    "$docker" build --progress=plain ${build_args[@]+"${build_args[@]}"} -f "docker/offline/$name/Dockerfile" -t "${!var}" .
  done
  project_args+=(--build-arg "PYTHON_IMAGE=$ELECTION_PYTHON_IMAGE")
elif [ -n "${ELECTION_PYTHON_IMAGE:-}" ]; then
  project_args+=(--build-arg "PYTHON_IMAGE=$ELECTION_PYTHON_IMAGE")
fi

echo "build: election-platform:0.1.0 (Dockerfile)"
"$docker" build --progress=plain ${build_args[@]+"${build_args[@]}"} ${project_args[@]+"${project_args[@]}"} -t election-platform:0.1.0 .
echo "build: done"
