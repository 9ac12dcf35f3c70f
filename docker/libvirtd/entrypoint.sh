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
virtlogd -d
exec libvirtd --listen "$@"
