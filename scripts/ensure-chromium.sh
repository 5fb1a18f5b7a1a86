#!/usr/bin/env bash
# Ensures Debian's chromium is installed for the real-browser test
# (test/web/demo.test.ts drives /usr/bin/chromium with playwright-core, which
# never downloads a browser of its own). Idempotent: does nothing when
# chromium is already there. Installs only when running as root with apt-get;
# otherwise it says what is missing and leaves the test to skip, so a
# developer without root still gets a green run of everything else.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM missing and cannot install it (needs root and apt-get); the browser test will be skipped" >&2
  exit 0
fi

echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt run may hold the lock (e.g. a parallel session): wait for it.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
if ! apt_get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
  apt_get update -qq
  apt_get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$CHROMIUM" --version >&2
