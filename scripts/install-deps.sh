#!/usr/bin/env bash
# Installs every build, test and runtime dependency of dts from Debian packages.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang-format
  # libraries (see README, "dependencies")
  libmariadb-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libsqlite3-dev libzstd-dev libssl-dev zlib1g-dev libisal-dev libmimalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # servers and tools used by tests, the demo and benchmarks
  mariadb-server mariadb-client haproxy sysbench mydumper etcd-server python3 curl
  # the web console's browser test (tests/console_test.cc): headless Chromium via ChromeDriver
  chromium chromium-driver python3-selenium
  # Kafka clients the Kafka listener is tested with (tests/kafka_test.cc)
  kcat python3-confluent-kafka python3-kafka
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The console's browser test audits each page with axe-core, an npm package pinned in
# tests/console/package-lock.json and kept out of the shipped console: npm (Debian's, unless a
# node with its own npm is there) and `npm ci` once; the test then runs offline.
console_test_tools() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/console"
  if [ ! -e "$dir/node_modules/axe-core/axe.min.js" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
if ! command -v npm >/dev/null; then missing_npm=(nodejs npm); else missing_npm=(); fi

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_npm[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  console_test_tools
  exit 0
fi
missing+=("${missing_npm[@]}")

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# The Debian packages of mariadb-server and haproxy try to start system-wide services; dts never
# uses those (the harness starts its own servers under a work directory), so keep them from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
console_test_tools
echo "install-deps: done"
