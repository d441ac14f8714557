#!/usr/bin/env bash
# The browser tests drive Debian's headless Chromium (/usr/bin/chromium) with Playwright. Installs it with apt
# when it is missing and we may (root, or password-less sudo); otherwise says how (those tests fail without it).
set -u
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
packages="chromium chromium-driver fonts-dejavu-core"
if [ "$(id -u)" -eq 0 ]; then
  apt_get="apt-get"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get="sudo apt-get"
else
  echo "chromium is missing: install it (apt-get install $packages) to run the browser tests; they fail without it."
  exit 0
fi
echo "installing $packages (Debian packages) for the browser tests"
$apt_get update -qq && DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq $packages >/dev/null \
  || echo "could not install chromium: the browser tests will fail"
