#!/usr/bin/env bash
# Installs what the gateway needs, printing each step. Two modes:
#   runtime  (npm start):             the libvirt client library, the toolchain the native addon builds
#                                      with, the production npm dependencies, the addon and the build;
#   test     (npm test, npm run bench, the default): all of that, plus the test tooling: a libvirt
#                                      daemon with QEMU, dnsmasq, Redis, Chromium, promtool, the SASL
#                                      tools, python3-libvirt and the npm devDependencies.
# `setup.sh --list MODE` prints the Debian packages of MODE and does nothing else.
# Idempotent and quiet when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'virtql setup: %s\n' "$*"; }

list=false
if [ "${1:-}" = --list ]; then
  list=true
  shift
fi
mode=${1:-test}
case "$mode" in
  runtime | test) ;;
  *)
    say "unknown mode $mode: runtime or test" >&2
    exit 2
    ;;
esac

# libvirt0 is the client library the gateway talks through (its test:///default driver included);
# the rest builds the addon (node-gyp: python3, make, g++; libvirt's headers through pkg-config).
runtime_packages=(libvirt0 libvirt-dev libxml2-dev pkg-config python3 make g++)
# A private libvirtd with QEMU and NAT networks, Redis for the replica tests, Chromium for the
# browser tests, promtool for the alert rules, systemd-analyze for the unit, the SASL tools, and
# the ISO tools that write and read back cloud-init seeds.
test_packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  dnsmasq-base iptables iproute2 util-linux xz-utils redis-server chromium sasl2-bin libsasl2-modules
  python3-libvirt genisoimage xorriso prometheus systemd openssl)

packages=("${runtime_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")
if $list; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

# First, so that an old Node fails here with a way out rather than deep in npm or node-gyp.
bash scripts/check-node.sh

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
    if [ "$mode" = runtime ]; then
      say "install libvirt's client library and development headers, pkg-config, python3, make and a C++ compiler with your package manager, then run this again"
    else
      say "install libvirt's development headers, the libvirt daemon with the QEMU driver, QEMU, dnsmasq and iptables with your package manager, then run this again"
    fi
    exit 1
  fi
fi

# Production dependencies only for runtime; a full install (test) serves both. TypeScript is a
# production dependency: `npm start` builds dist/ from this checkout, without the devDependencies.
full=node_modules/.virtql-installed
lean=node_modules/.virtql-installed-runtime
fresh() { [ -f "$1" ] && ! [ package-lock.json -nt "$1" ] && ! [ package.json -nt "$1" ]; }
if [ "$mode" = test ] && ! fresh "$full"; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$full"
elif [ "$mode" = runtime ] && ! fresh "$full" && ! fresh "$lean"; then
  say "installing the production npm dependencies (npm ci --omit=dev)"
  npm ci --omit=dev --no-audit --no-fund --loglevel=error
  touch "$lean"
fi

# npm run puts npm's own node-gyp on PATH, so the addon builds without the devDependencies too.
addon=build/Release/virtql_native.node
if [ ! -f "$addon" ] || [ -n "$(find src/native binding.gyp -newer "$addon" -print -quit)" ]; then
  say "building the native libvirt binding (node-gyp)"
  npm run --silent build:native --loglevel=error >/dev/null
fi

if [ ! -f dist/index.js ] || [ -n "$(find src -name '*.ts' -newer dist/index.js -print -quit)" ]; then
  say "compiling TypeScript (tsc)"
  npm run --silent build:ts
fi
