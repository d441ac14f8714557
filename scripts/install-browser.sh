#!/usr/bin/env bash
# The browser tests drive Debian's headless Chromium (/usr/bin/chromium) with Playwright: installed when missing.
set -u
command -v chromium >/dev/null 2>&1 && exit 0
exec "$(dirname "$0")/apt-install.sh" "the browser tests" chromium chromium-driver fonts-dejavu-core
