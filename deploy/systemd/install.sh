#!/usr/bin/env bash
# Installs virtql as a system service from this checkout: a `virtql` system user in the libvirt
# group, the gateway in /opt/virtql (production dependencies only), /etc/virtql for its
# configuration and the unit. Run as root on Debian 12 or newer, with Node.js >= 20.5 at /usr/bin/node.
# Then: edit /etc/virtql/virtql.yaml, systemctl enable --now virtql.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf 'virtql install: %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || { say "run as root"; exit 1; }
prefix=${VIRTQL_PREFIX:-/opt/virtql}

getent group libvirt >/dev/null || groupadd --system libvirt
id virtql >/dev/null 2>&1 || useradd --system --home-dir /var/lib/virtql --no-create-home \
  --shell /usr/sbin/nologin --groups libvirt virtql

say "installing the runtime packages and building in $prefix"
install -d -m 0755 "$prefix"
# Sources, lock file and build inputs only: no tests, no node_modules of this checkout, and none of
# the compose secrets a checkout may hold.
tar --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./test --exclude=./bench --exclude=./.git \
  --exclude=./docker/libvirt-password --exclude=./docker/gateway/virtql.yaml \
  -cf - . | tar -xf - -C "$prefix"
(cd "$prefix" && bash scripts/setup.sh runtime)
chown -R root:root "$prefix"

install -d -m 0750 -o root -g virtql /etc/virtql
[ -f /etc/virtql/virtql.yaml ] || install -m 0640 -o root -g virtql docker/gateway/virtql.example.yaml /etc/virtql/virtql.yaml
install -d -m 0750 -o virtql -g virtql /var/lib/virtql
install -m 0644 deploy/systemd/virtql.service /etc/systemd/system/virtql.service
systemctl daemon-reload
say "installed. Edit /etc/virtql/virtql.yaml (npm run token -- NAME makes an API token), then: systemctl enable --now virtql"
