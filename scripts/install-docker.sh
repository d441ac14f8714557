#!/usr/bin/env bash
# `make test-compose` runs docker-compose.yaml on Debian's Docker engine (docker.io), Compose (docker-compose) and
# builds its base image with debootstrap: each installed when missing (the test starts the engine itself).
set -u
missing=()
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing+=(docker.io)
[ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] && exit 0
exec "$(dirname "$0")/apt-install.sh" "make test-compose (a Docker engine, Compose, debootstrap)" "${missing[@]}"
