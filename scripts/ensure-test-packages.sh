#!/usr/bin/env bash
# Ensures the Debian packages the tests drive for real are installed:
# - chromium, for the browser test (test/web/demo.test.ts drives
#   /usr/bin/chromium with playwright-core, which never downloads a browser);
# - pgbouncer, for the transaction-pooler test (test/db/pgbouncer.test.ts
#   starts its own, on a free port, with a config in a temp dir; the
#   package's own service is never used).
# Idempotent: installs only what is missing. Installs only when running as
# root with apt-get; otherwise it says what is missing and leaves those tests
# to skip, so a developer without root still gets a green run of the rest.
set -euo pipefail

# binary, then the packages that provide it
wanted=(
  "/usr/bin/chromium chromium fonts-dejavu-core"
  "/usr/sbin/pgbouncer pgbouncer"
)

missing=()
for entry in "${wanted[@]}"; do
  read -r binary packages <<<"$entry"
  [ -x "$binary" ] || missing+=("$entry")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  for entry in "${missing[@]}"; do
    read -r binary packages <<<"$entry"
    echo "ensure-test-packages: $binary missing and cannot install $packages (needs root and apt-get); its test will be skipped" >&2
  done
  exit 0
fi

packages=()
for entry in "${missing[@]}"; do
  read -r _binary rest <<<"$entry"
  read -r -a more <<<"$rest"
  packages+=("${more[@]}")
done
echo "ensure-test-packages: installing Debian's ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt run may hold the lock (e.g. a parallel session): wait for it.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
if ! apt_get install -y --no-install-recommends "${packages[@]}" >/dev/null; then
  apt_get update -qq
  apt_get install -y --no-install-recommends "${packages[@]}" >/dev/null
fi
for entry in "${missing[@]}"; do
  read -r binary _packages <<<"$entry"
  "$binary" --version >&2
done
