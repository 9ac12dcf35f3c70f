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
virtlogd -d
exec libvirtd --listen "$@"
