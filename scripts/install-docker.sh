#!/usr/bin/env bash
# `make test-compose` runs docker-compose.yaml on Debian's Docker engine (docker.io: its dockerd and its docker CLI,
# which builds with BuildKit by itself), Compose (docker-compose) and builds its base image with debootstrap: each
# installed when missing (the test starts the engine itself, as root). Another Docker installation (Docker CE) is
# never replaced: the test then says what it needs instead.
set -u
if command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ]; then
  echo "make test-compose uses Debian's docker.io; another Docker engine is installed ($(command -v dockerd)):" \
    "not replacing it. Run the test on a machine with docker.io, or use docker compose by hand (README)."
  exit 0
fi
missing=()
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing+=(docker.io)
[ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] && exit 0
exec "$(dirname "$0")/apt-install.sh" "make test-compose (a Docker engine, Compose, debootstrap)" "${missing[@]}"
