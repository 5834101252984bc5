#!/usr/bin/env bash
# Builds the .deb and checks it: its files, its dependencies, and, on a clean Debian 12 (CI, as
# root, with systemd), that installing it starts dts.service and /healthz answers. Without
# systemd (a container) the service's command is run as the dts user instead.
#   scripts/test-package.sh            build + inspect + install + /healthz (needs root)
#   scripts/test-package.sh --no-install   build + inspect + run the packaged binary from a copy
# DTS_PACKAGE_BUILD=DIR packages from an already configured build directory (CI: build/, which
# scripts/test.sh built as Release) instead of configuring `build` as RelWithDebInfo, so the
# binary is not compiled twice.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${DTS_PACKAGE_BUILD:-build}
if [ -n "${DTS_PACKAGE_BUILD:-}" ]; then
  cmake -S . -B "$dir" -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
else
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
fi
cmake --build "$dir" --target dts -j"$(nproc)"
rm -f "$dir"/dts_*_amd64.deb
(cd "$dir" && cpack -G DEB >/dev/null)
deb=$(ls "$dir"/dts_*_amd64.deb)
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/dts ./usr/lib/systemd/system/dts.service ./usr/share/doc/dts/api.md; do
  grep -q " $f\$" <<<"$files" || { echo "$deb lacks $f"; exit 1; }
done
healthz() {
  for _ in $(seq 1 50); do
    if curl -fsS "http://127.0.0.1:$1/healthz" 2>/dev/null | grep -q '"ok"'; then return 0; fi
    sleep 0.2
  done
  return 1
}
if [ "${1:-}" = "--no-install" ]; then
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp/root"
  "$tmp/root/usr/bin/dts" server --data-dir "$tmp/data" --listen 127.0.0.1:18686 >"$tmp/log" 2>&1 &
  pid=$!
  healthz 18686 || { cat "$tmp/log"; kill "$pid"; exit 1; }
  kill -TERM "$pid"
  wait "$pid"
  rm -rf "$tmp"
  echo "package ok (not installed): $deb"
  exit 0
fi
apt-get install -y -qq "./$deb"
if [ -d /run/systemd/system ]; then
  systemctl is-active --quiet dts.service
else
  runuser -u dts -- /usr/bin/dts server --data-dir /var/lib/dts --listen 127.0.0.1:8686 \
    >/tmp/dts-package.log 2>&1 &
  server=$!
  trap 'kill -TERM "$server" 2>/dev/null || true' EXIT
fi
healthz 8686
test "$(stat -c %a /var/lib/dts/api-token)" = 600
test "$(stat -c %U /var/lib/dts/api-token)" = dts
echo "package ok: $deb installed, /healthz answers"
