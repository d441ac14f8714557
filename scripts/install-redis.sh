#!/usr/bin/env bash
# The cluster profile's Celery broker is Debian's redis-server: installed when missing (the stack runs it itself, on
# its own port and password; `make up PROFILE=cluster` stops with the same advice when it is still missing).
set -u
command -v redis-server >/dev/null 2>&1 && exit 0
exec "$(dirname "$0")/apt-install.sh" "the cluster profile's Celery broker" redis-server
