#!/usr/bin/env bash
# The Debian packages the test suite uses, installed when this runs as root on a machine with
# apt-get (a fresh CI or developer machine); elsewhere it says what is missing and the tests
# that need it skip with the reason. Only missing packages are fetched, so a second run is
# quick. Each package fails soft on its own.
set -uo pipefail

# package -> what the tests use it for
PACKAGES=(
  "graphviz:call graphs (dot)"
  "gcc:run's seccomp and vfork launchers; -race builds"
  "libc6-dev:C headers for the launchers and cgo"
  "linux-libc-dev:kernel headers for the seccomp launcher"
  "git:run's credential-prompt tests; VCS stamps in builds"
  "postgresql:the fleet store's index"
  "chromium:flame graphs and pages in a real browser"
  "prometheus:serve and diagnose against a real Prometheus"
  "prometheus-alertmanager:the alert path end to end"
  "nodejs:npm tools (sarif-multitool, old Go binaries)"
  "npm:npm tools (sarif-multitool, old Go binaries)"
)

missing=()
for entry in "${PACKAGES[@]}"; do
  pkg=${entry%%:*}
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# nodejs/npm from elsewhere (nvm, a tarball) are as good as Debian's
if command -v npm >/dev/null 2>&1; then
  kept=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || kept+=("$p"); done
  missing=("${kept[@]}")
fi
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present"; exit 0; }

if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "system packages missing (tests needing them will skip): ${missing[*]}"
  echo "  install them with: sudo apt-get install ${missing[*]}"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
apt-get update -qq >/dev/null 2>&1 || echo "warning: apt-get update failed"
for pkg in "${missing[@]}"; do
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 \
    || echo "warning: could not install $pkg (tests needing it will skip)"
done
exit 0
