#!/usr/bin/env bash
# Fails with a clear message when the `node` on PATH is older than package.json's engines.node
# (">=MAJOR.MINOR"). Run first by setup.sh, before anything is installed or built.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'virtql setup: %s\n' "$*" >&2; }

wanted=$(sed -n 's/.*"node": *">= *\([0-9][0-9]*\.[0-9][0-9]*\)".*/\1/p' package.json | head -n 1)
wanted=${wanted:-20.5}
how="Debian 12 (bookworm) ships Node.js 18, which is too old: install Node.js ${wanted%%.*} or newer from NodeSource's Debian packages or with nvm (nvm install 22), or use Debian 13 (trixie), whose nodejs package is 20; then run this again"

if ! command -v node >/dev/null 2>&1; then
  say "Node.js >= $wanted is needed and there is no node on PATH"
  say "$how"
  exit 1
fi
have=$(node --version 2>/dev/null || true)
version=${have#v}
if ! [[ $version =~ ^([0-9]+)\.([0-9]+) ]]; then
  say "cannot tell the version of $(command -v node) (it answered '$have'); Node.js >= $wanted is needed"
  exit 1
fi
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
if ((major < ${wanted%%.*} || (major == ${wanted%%.*} && minor < ${wanted#*.}))); then
  say "Node.js >= $wanted is needed (package.json engines); $(command -v node) is $have"
  say "$how"
  exit 1
fi
