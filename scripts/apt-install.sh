#!/usr/bin/env bash
# scripts/apt-install.sh <what needs them> <package>...: installs Debian packages with apt when we may (root, or
# password-less sudo); otherwise says how. Never removes a package (--no-remove) and never fails the caller: what
# needs the packages says so itself.
set -u
purpose="$1"
shift
if [ "$(id -u)" -eq 0 ]; then
  apt_get="apt-get"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get="sudo apt-get"
else
  echo "missing: install $* (apt-get install $*) for $purpose."
  exit 0
fi
echo "installing $* (Debian packages) for $purpose"
# RUNLEVEL=1: a package's own service is not started (the stack runs its services itself)
$apt_get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $apt_get install -y -qq --no-remove "$@" >/dev/null \
  || echo "could not install $*: $purpose will fail"
