#!/usr/bin/env bash
# The cluster profile's Celery broker is Debian's redis-server. Installs it with apt when it is missing and we may
# (root, or password-less sudo); otherwise says how (`make up PROFILE=cluster` then stops with the same advice).
set -u
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  apt_get="apt-get"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get="sudo apt-get"
else
  echo "redis-server is missing: install it (apt-get install redis-server) to run the cluster profile."
  exit 0
fi
echo "installing redis-server (Debian package) for the cluster profile's Celery broker"
# The package's own service is not started: the stack runs Redis itself, on its own port and password.
$apt_get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $apt_get install -y -qq redis-server >/dev/null \
  || echo "could not install redis-server: the cluster profile cannot start"
