#!/bin/sh
# Starts virtlogd (QEMU's console logs go through it) and runs libvirtd in the foreground, listening on TCP.
set -eu

# cgroup v2 lets a cgroup hand controllers to children only while it holds no process itself:
# move everything into a leaf first, as docker's own docker-in-docker image does, so libvirt can
# create its machine partition.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
    > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || :
fi

mkdir -p /run/libvirt /var/lib/libvirt/images /var/log/libvirt/qemu

# Displays without a passwd of their own get this one: random, never shown, 8 characters (VNC's
# limit). QEMU then asks every VNC client for a password, and the gateway opens a display by
# setting a one-time password on it (README, Consoles); without any, QEMU cannot take one.
if ! grep -q '^vnc_password' /etc/libvirt/qemu.conf; then
  printf 'vnc_password = "%s"\n' "$(head -c 6 /dev/urandom | base64 | tr '+/' '-_')" >> /etc/libvirt/qemu.conf
fi
# The TCP socket asks for SASL: the gateway's user, with the password of the compose secret.
secret=/run/secrets/libvirt_password
if [ ! -s "$secret" ]; then
  echo "libvirtd: no SASL password at $secret (docker-compose.yml, secrets: libvirt_password)" >&2
  exit 1
fi
tr -d '\n' < "$secret" | saslpasswd2 -f /etc/libvirt/passwd.db -a libvirt -c -p "${LIBVIRT_SASL_USER:-virtql}"
chmod 0600 /etc/libvirt/passwd.db

virtlogd -d
exec libvirtd --listen "$@"
