#!/usr/bin/env bash
# Installs what `npm start`, `npm test` and `npm run bench` need, printing each step:
# Debian packages (libvirt, QEMU, dnsmasq...), npm dependencies, the native addon and the TypeScript build.
# Idempotent and quiet when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'virtql setup: %s\n' "$*"; }

# First, so that an old Node fails here with a way out rather than deep in npm or node-gyp.
bash scripts/check-node.sh

packages=(libvirt-dev libxml2-dev pkg-config libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  qemu-system-x86 qemu-utils dnsmasq-base iptables iproute2 util-linux python3 make g++ xz-utils
  redis-server chromium sasl2-bin libsasl2-modules python3-libvirt genisoimage xorriso)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: ${missing[*]}"
    say "run as root:  sudo sh -c '$cmd'"
    exit 1
  else
    say "missing system packages: ${missing[*]} (this is not a Debian system)"
    say "install libvirt's development headers, the libvirt daemon with the QEMU driver, QEMU, dnsmasq and iptables with your package manager, then run this again"
    exit 1
  fi
fi

stamp=node_modules/.virtql-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

addon=build/Release/virtql_native.node
if [ ! -f "$addon" ] || [ -n "$(find src/native binding.gyp -newer "$addon" -print -quit)" ]; then
  say "building the native libvirt binding (node-gyp)"
  npx --no-install node-gyp rebuild --loglevel=error >/dev/null
fi

if [ ! -f dist/index.js ] || [ -n "$(find src -name '*.ts' -newer dist/index.js -print -quit)" ]; then
  say "compiling TypeScript (tsc)"
  npx --no-install tsc -p tsconfig.build.json
fi
