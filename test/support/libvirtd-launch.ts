import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAEMON_PATH, LIBVIRTD, VIRTLOGD } from './libvirtd-availability.ts';
import {
  addQemuAccount,
  buildLibvirtdConf,
  buildQemuConf,
  buildSaslConf,
  buildVirtlogdConf,
  type LibvirtdLayout,
} from './libvirtd-files.ts';
import { type Keeper, spawnKeeper } from './namespace-keeper.ts';

/** Survives runs: libvirt keys each cache entry on the QEMU binary's mtime, so a warm cache skips the ~5 s probe. */
const QEMU_CAPS_CACHE = '/var/tmp/virtql-qemu-cache';
const BIND_TARGETS = ['/etc/libvirt', '/var/lib/libvirt', '/run/libvirt', '/var/log/libvirt', '/var/cache/libvirt'];

/**
 * Runs as `sh -c` inside the new namespaces, under the keeper. Mounts made here
 * stay private to the namespace and vanish with it; the daemons daemonize.
 */
const NAMESPACE_SCRIPT = `set -eu
mnt_ns_file=$1 lo_up=$2 etc=$3 lib=$4 run=$5 log=$6 cache=$7 passwd=$8 group=$9
shift 9
virtlogd_conf=$1 virtlogd_pid=$2
shift 2
readlink /proc/self/ns/mnt > "$mnt_ns_file"
if [ "$lo_up" = 1 ]; then ip link set lo up; fi
mount --bind "$etc" /etc/libvirt
mount --bind "$lib" /var/lib/libvirt
mount --bind "$run" /run/libvirt
mount --bind "$log" /var/log/libvirt
mount --bind "$cache" /var/cache/libvirt
mount --bind "$passwd" /etc/passwd
mount --bind "$group" /etc/group
# Hiding the i386 emulator halves the cold capabilities probe.
if [ -f /usr/bin/qemu-system-i386 ]; then mount --bind /dev/null /usr/bin/qemu-system-i386; fi
${VIRTLOGD} -d -f "$virtlogd_conf" -p "$virtlogd_pid"
exec ${LIBVIRTD} -d "$@"
`;

/** Fills `layout` with a copy of /etc/libvirt and this daemon's configuration. */
export async function prepareFiles(
  layout: LibvirtdLayout,
  hostUuid: string,
  tcpPort: number | undefined,
  saslUsers?: Record<string, string>,
  tls?: { port: number; dir: string },
): Promise<void> {
  await cp('/etc/libvirt', layout.etc, { recursive: true });
  // Drop the host's own definitions (e.g. an autostarted "default" network that would clash in a shared netns).
  for (const dir of ['qemu', 'storage', 'secrets']) await rm(join(layout.etc, dir), { recursive: true, force: true });
  // The mount points exist on a host with libvirt-daemon-system; create them (empty) where they do not.
  const dirs = [layout.lib, layout.run, layout.log, layout.sock, layout.xml, QEMU_CAPS_CACHE, ...BIND_TARGETS];
  await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));
  await writeFile(
    layout.libvirtdConf,
    buildLibvirtdConf({
      layout,
      hostUuid,
      ...(tcpPort === undefined ? {} : { tcpPort }),
      tcpAuth: saslUsers ? 'sasl' : 'none',
      ...(tls === undefined ? {} : { tls }),
    }),
  );
  if (saslUsers) await createSaslDb(layout, saslUsers);
  await writeFile(layout.qemuConf, buildQemuConf());
  await writeFile(layout.virtlogdConf, buildVirtlogdConf(layout));
  const accounts = addQemuAccount(await readFile('/etc/passwd', 'utf8'), await readFile('/etc/group', 'utf8'));
  await writeFile(layout.passwd, accounts.passwd);
  await writeFile(layout.group, accounts.group);
}

/** The daemon's SASL config and a sasldb of `users` (name → password) made by saslpasswd2 (Debian's sasl2-bin). */
async function createSaslDb(layout: LibvirtdLayout, users: Record<string, string>): Promise<void> {
  await mkdir(layout.sasl, { recursive: true, mode: 0o700 });
  await writeFile(join(layout.sasl, 'libvirt.conf'), buildSaslConf(layout));
  for (const [name, password] of Object.entries(users)) {
    // -p reads the password from stdin, so it never shows on a command line.
    await runWithInput(SASLPASSWD2, ['-f', join(layout.sasl, 'sasldb2'), '-a', 'libvirt', '-c', '-p', name], password);
  }
}

export const SASLPASSWD2 = '/usr/sbin/saslpasswd2';

function runWithInput(file: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} failed (${code}): ${stderr.trim()}`)),
    );
    child.stdin.end(input);
  });
}

/**
 * Starts virtlogd then libvirtd in a new mount namespace, and a new network
 * namespace unless `joinNetnsPid` names a process whose one to share.
 */
export function launchInNamespaces(
  layout: LibvirtdLayout,
  options: { joinNetnsPid?: number; tcp: boolean; timeoutMs: number },
): Keeper {
  const { joinNetnsPid } = options;
  const unshare = ['unshare', '--mount', '--propagation', 'private', ...(joinNetnsPid === undefined ? ['--net'] : [])];
  const prefix = joinNetnsPid === undefined ? unshare : ['nsenter', `--net=/proc/${joinNetnsPid}/ns/net`, ...unshare];
  const scriptArgs = [
    layout.mntNs,
    joinNetnsPid === undefined ? '1' : '0',
    layout.etc,
    layout.lib,
    layout.run,
    layout.log,
    QEMU_CAPS_CACHE,
    layout.passwd,
    layout.group,
    layout.virtlogdConf,
    layout.virtlogdPid,
    '-f',
    layout.libvirtdConf,
    '-p',
    layout.libvirtdPid,
    ...(options.tcp ? ['--listen'] : []),
  ];
  return spawnKeeper(prefix, ['sh', '-c', NAMESPACE_SCRIPT, 'sh', ...scriptArgs], {
    env: daemonEnv(layout),
    timeoutMs: options.timeoutMs,
    root: layout.root,
  });
}

/** The daemons' environment: the host's, DAEMON_PATH, and SASL_CONF_PATH naming the daemon's own SASL directory (made only with saslUsers). */
function daemonEnv(layout: LibvirtdLayout): NodeJS.ProcessEnv {
  return { ...process.env, PATH: DAEMON_PATH, SASL_CONF_PATH: layout.sasl };
}

/**
 * Starts a new libvirtd (same config, pid file and sockets) inside the namespaces of
 * `namespacePid`, e.g. after the first one was killed. It runs under a keeper of its own:
 * a process started from here cannot become the first keeper's child, and without a
 * subreaper its orphaned daemons would go to PID 1, which reaps late (and the keeper
 * would not stop them if the test run died). The new keeper joins the mount and network
 * namespaces, so the bind mounts, bridges and firewall rules are the ones the first
 * libvirtd saw.
 */
export function relaunchLibvirtd(
  layout: LibvirtdLayout,
  options: { namespacePid: number; tcp: boolean; timeoutMs: number },
): Keeper {
  const prefix = [
    'nsenter',
    `--mount=/proc/${options.namespacePid}/ns/mnt`,
    `--net=/proc/${options.namespacePid}/ns/net`,
  ];
  const command = [
    LIBVIRTD,
    '-d',
    '-f',
    layout.libvirtdConf,
    '-p',
    layout.libvirtdPid,
    ...(options.tcp ? ['--listen'] : []),
  ];
  return spawnKeeper(prefix, command, {
    env: daemonEnv(layout),
    timeoutMs: options.timeoutMs,
    root: layout.root,
  });
}
