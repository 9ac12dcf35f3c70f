import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMachinePartitions } from './cgroup-partitions.ts';
import {
  buildNetworkXml,
  buildPoolXml,
  createLayout,
  type LibvirtdLayout,
  NETWORK_NAME,
  POOL_NAME,
} from './libvirtd-files.ts';
import { launchInNamespaces, prepareFiles, relaunchLibvirtd } from './libvirtd-launch.ts';
import { type DaemonState, teardownDaemon } from './libvirtd-teardown.ts';
import { readNamespace } from './namespace-processes.ts';
import { listeningTcpPorts, usedPrivateSubnets } from './netns-usage.ts';
import { isProcessGone, pollUntil } from './process-exit.ts';
import { virsh } from './run-command.ts';

export { libvirtdUnavailableReason } from './libvirtd-availability.ts';

/** A libvirtd of its own, in its own mount namespace (and network namespace unless it joined another's). */
export interface PrivateLibvirtd {
  name: string;
  /** `qemu+unix:///system?socket=<root>/sock/libvirt-sock` */
  uri: string;
  /** The same daemon serving the test driver remotely. */
  testUri: string;
  /** `qemu+tcp://127.0.0.1:<port>/system`, reachable only inside the daemon's network namespace. */
  tcpUri?: string;
  /** The TLS port on 127.0.0.1 inside the daemon's network namespace, with tlsDir. */
  tlsPort?: number;
  root: string;
  /** libvirtd's pid; restart() updates it. */
  pid: number;
  virtlogdPid: number;
  /**
   * A pid whose /proc/PID/ns/net is the daemon's network namespace: the keeper
   * process that reaps the daemons and lives until the last of them is gone.
   */
  netnsPid: number;
  /** Whether domain type 'kvm' works on this daemon; otherwise use type 'qemu'. */
  kvm: boolean;
  /**
   * Simulates a crash and a restart of libvirtd: SIGKILL (no cleanup, so running guests
   * and dnsmasq stay), wait until it is gone, then start a new libvirtd in the same
   * namespaces with the same config and sockets, and resolve once it answers. virtlogd
   * keeps running. Clients see their connections closed (EOF) and can reconnect to the
   * same URIs. Calls made while a restart runs share it; after stop() it rejects.
   */
  restart(): Promise<void>;
  /** Destroys domains, networks and pools, stops the daemons and removes `root`. Idempotent. */
  stop(): Promise<void>;
}

export interface StartLibvirtdOptions {
  name: string;
  /** Listen on 127.0.0.1 TCP (no auth) inside the network namespace. */
  tcp?: boolean;
  /**
   * The TCP listener asks for SASL (DIGEST-MD5) instead: these users (name → password) are in
   * the daemon's own sasldb, made with saslpasswd2. Implies `tcp`.
   */
  saslUsers?: Record<string, string>;
  /**
   * Also listen for TLS on 127.0.0.1 (port `tlsPort` of the result) with the CA, certificate and
   * key in this directory: cacert.pem, servercert.pem, serverkey.pem.
   */
  tlsDir?: string;
  /** @default the first free port from 16509 in the network namespace */
  tcpPort?: number;
  /** Share this daemon's network namespace, e.g. to migrate between the two over 127.0.0.1. */
  joinNetnsOf?: PrivateLibvirtd;
  /** @default a random UUID, so two daemons differ */
  hostUuid?: string;
  /** @default os.tmpdir() */
  baseDir?: string;
}

const DEFAULT_TCP_PORT = 16509;
const DEFAULT_TLS_PORT = 16514;
const READY_TIMEOUT_MS = 30_000;
/** unix(7) socket paths are limited to 107 bytes; libvirt-admin-sock is the longest name. */
const MAX_SOCKET_PATH = 107;

async function readPidFile(path: string): Promise<number> {
  const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no pid in ${path}`);
  return pid;
}

/** True once libvirtd answers; throws as soon as it has died. */
async function answers(uri: string, pid: number): Promise<boolean> {
  try {
    await virsh(uri, 'version');
    return true;
  } catch (error) {
    if (await isProcessGone(pid)) throw new Error(`libvirtd ${pid} exited: ${(error as Error).message}`);
    return false;
  }
}

async function supportsKvm(uri: string): Promise<boolean> {
  try {
    await virsh(uri, 'domcapabilities', '--virttype', 'kvm');
    return true;
  } catch {
    return false;
  }
}

async function pickTcpPort(netnsPid: number | undefined, from = DEFAULT_TCP_PORT, taken?: number): Promise<number> {
  const used = netnsPid === undefined ? new Set<number>() : await listeningTcpPorts(netnsPid);
  let port = from;
  while (used.has(port) || port === taken) port += 1;
  return port;
}

async function createNetwork(uri: string, layout: LibvirtdLayout, netnsPid: number): Promise<void> {
  const used = await usedPrivateSubnets(netnsPid);
  let octet = 100;
  while (used.has(octet)) octet += 1;
  if (octet > 254) throw new Error('no free 192.168.x.0/24 subnet in the network namespace');
  const file = join(layout.xml, 'network.xml');
  await writeFile(file, buildNetworkXml(`virbr-q${octet}`, octet));
  await virsh(uri, 'net-define', file);
  await virsh(uri, 'net-start', NETWORK_NAME);
}

async function createPool(uri: string, layout: LibvirtdLayout): Promise<void> {
  const file = join(layout.xml, 'pool.xml');
  await writeFile(file, buildPoolXml(layout.pool));
  await virsh(uri, 'pool-define', file);
  await virsh(uri, 'pool-build', POOL_NAME);
  await virsh(uri, 'pool-start', POOL_NAME);
}

async function logTail(path: string, lineCount = 30): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lineCount).join('\n');
  } catch {
    return '(no log)';
  }
}

function sendKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Kills libvirtd like a crash and starts another in its namespaces; returns the new pid. */
async function restartLibvirtd(state: DaemonState, tcp: boolean): Promise<number> {
  const { layout, keeperPid, mntNs, libvirtdPid: oldPid } = state;
  if (keeperPid === undefined || mntNs === undefined || oldPid === undefined) throw new Error('libvirtd never started');
  // The first keeper lives as long as anything it started (virtlogd at least): its namespaces are the daemon's.
  if ((await readNamespace(keeperPid, 'mnt')) !== mntNs) throw new Error(`namespace keeper ${keeperPid} is gone`);
  // Only while it is still ours: a recycled pid is never hit.
  if ((await readNamespace(oldPid, 'mnt')) === mntNs) sendKill(oldPid);
  if (!(await pollUntil(() => isProcessGone(oldPid), 10_000))) throw new Error(`libvirtd ${oldPid} survived SIGKILL`);
  // A stale pid file would name the dead daemon if the new one failed before writing it.
  await rm(layout.libvirtdPid, { force: true });
  const keeper = relaunchLibvirtd(layout, { namespacePid: keeperPid, tcp, timeoutMs: READY_TIMEOUT_MS });
  state.relaunchKeeperPids = [...(state.relaunchKeeperPids ?? []), keeper.pid];
  await keeper.ready;
  const pid = await readPidFile(layout.libvirtdPid);
  if ((await readNamespace(pid, 'mnt')) !== mntNs) throw new Error(`restarted libvirtd ${pid} is not running`);
  state.libvirtdPid = pid;
  if (!(await pollUntil(() => answers(state.uri, pid), READY_TIMEOUT_MS, 50))) {
    throw new Error(`restarted libvirtd did not answer within ${READY_TIMEOUT_MS} ms`);
  }
  return pid;
}

export async function startLibvirtd(opts: StartLibvirtdOptions): Promise<PrivateLibvirtd> {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(opts.name)) throw new Error(`bad daemon name ${JSON.stringify(opts.name)}`);
  const peer = opts.joinNetnsOf;
  if (peer !== undefined && (await isProcessGone(peer.netnsPid))) {
    throw new Error(`cannot join the network namespace of stopped daemon ${peer.name}`);
  }
  const root = await mkdtemp(join(opts.baseDir ?? tmpdir(), `virtql-libvirtd-${opts.name}-`));
  const layout = createLayout(root);
  if (join(layout.sock, 'libvirt-admin-sock').length > MAX_SOCKET_PATH) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`socket paths under ${root} are too long; pass a shorter baseDir`);
  }
  const socket = join(layout.sock, 'libvirt-sock');
  const uri = `qemu+unix:///system?socket=${socket}`;
  const state: DaemonState = { layout, uri, partitionsBefore: await listMachinePartitions() };
  try {
    const tcpPort = opts.tcp || opts.saslUsers ? (opts.tcpPort ?? (await pickTcpPort(peer?.netnsPid))) : undefined;
    const tlsPort =
      opts.tlsDir === undefined ? undefined : await pickTcpPort(peer?.netnsPid, DEFAULT_TLS_PORT, tcpPort);
    const tls = opts.tlsDir === undefined || tlsPort === undefined ? undefined : { port: tlsPort, dir: opts.tlsDir };
    await prepareFiles(layout, opts.hostUuid ?? randomUUID(), tcpPort, opts.saslUsers, tls);
    const listen = tcpPort !== undefined || tlsPort !== undefined;
    const keeper = launchInNamespaces(layout, {
      joinNetnsPid: peer?.netnsPid,
      tcp: listen,
      timeoutMs: READY_TIMEOUT_MS,
    });
    state.keeperPid = keeper.pid;
    await keeper.ready;
    state.mntNs = (await readFile(layout.mntNs, 'utf8')).trim();
    state.virtlogdPid = await readPidFile(layout.virtlogdPid);
    const pid = await readPidFile(layout.libvirtdPid);
    state.libvirtdPid = pid;
    if ((await readNamespace(pid, 'mnt')) !== state.mntNs) throw new Error(`libvirtd ${pid} is not running`);
    if (!(await pollUntil(() => answers(uri, pid), READY_TIMEOUT_MS, 50))) {
      throw new Error(`libvirtd did not answer on ${socket} within ${READY_TIMEOUT_MS} ms`);
    }
    const kvm = await supportsKvm(uri);
    await createNetwork(uri, layout, pid);
    await createPool(uri, layout);
    let stopping: Promise<void> | undefined;
    let restarting: Promise<void> | undefined;
    const daemon: PrivateLibvirtd = {
      name: opts.name,
      uri,
      testUri: `test+unix:///default?socket=${socket}`,
      ...(tcpPort === undefined ? {} : { tcpUri: `qemu+tcp://127.0.0.1:${tcpPort}/system` }),
      ...(tlsPort === undefined ? {} : { tlsPort }),
      root,
      pid,
      virtlogdPid: state.virtlogdPid,
      netnsPid: keeper.pid,
      kvm,
      restart: () => {
        if (stopping !== undefined) return Promise.reject(new Error(`libvirtd "${opts.name}" is stopped`));
        restarting ??= restartLibvirtd(state, listen)
          .then((newPid) => {
            daemon.pid = newPid;
          })
          .finally(() => {
            restarting = undefined;
          });
        return restarting;
      },
      stop: () => {
        // A restart under way finishes first, so teardown sees the daemon that is running.
        stopping ??= (restarting ?? Promise.resolve()).catch(() => undefined).then(() => teardownDaemon(state));
        return stopping;
      },
    };
    return daemon;
  } catch (error) {
    const log = await logTail(layout.libvirtdLog);
    await teardownDaemon(state).catch(() => undefined);
    throw new Error(
      `starting libvirtd "${opts.name}" failed: ${(error as Error).message}\n--- libvirtd.log ---\n${log}`,
      {
        cause: error,
      },
    );
  }
}
