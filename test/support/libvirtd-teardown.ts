import { readFile, rm } from 'node:fs/promises';
import { removeNewMachinePartitions } from './cgroup-partitions.ts';
import type { LibvirtdLayout } from './libvirtd-files.ts';
import { listProcessesInNamespace, readNamespace } from './namespace-processes.ts';
import { isProcessGone, pollUntil, terminateProcess } from './process-exit.ts';
import { listDescendants } from './process-tree.ts';
import { virsh } from './run-command.ts';

/** What is known about a daemon, however far its start got. */
export interface DaemonState {
  layout: LibvirtdLayout;
  uri: string;
  /** The namespace keeper: parent (reaper) of the daemons, exits after the last of them. */
  keeperPid?: number;
  /** Keepers of libvirtds started again after a restart, in the same namespaces; each exits after its daemon. */
  relaunchKeeperPids?: number[];
  libvirtdPid?: number;
  virtlogdPid?: number;
  mntNs?: string;
  /** cgroup partitions that existed before this daemon started, and so are not its to remove. */
  partitionsBefore?: string[];
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Lists by UUID (a name may look like a numeric id to virsh). */
async function listUuids(uri: string, command: string): Promise<string[]> {
  return lines(await virsh(uri, command, '--all', '--uuid'));
}

async function undefineDomain(uri: string, uuid: string): Promise<void> {
  try {
    await virsh(uri, 'undefine', uuid, '--nvram', '--managed-save', '--snapshots-metadata', '--checkpoints-metadata');
  } catch {
    // A transient domain is gone once destroyed; the leftover check below decides.
    await virsh(uri, 'undefine', uuid).catch(() => undefined);
  }
}

/**
 * Killing libvirtd leaves qemu, dnsmasq, bridges and firewall rules behind,
 * so everything running is destroyed through the API first.
 */
async function removeLibvirtObjects(uri: string): Promise<void> {
  for (const uuid of await listUuids(uri, 'list')) {
    await virsh(uri, 'destroy', uuid).catch(() => undefined);
    await undefineDomain(uri, uuid);
  }
  for (const uuid of await listUuids(uri, 'net-list')) {
    await virsh(uri, 'net-destroy', uuid).catch(() => undefined);
    await virsh(uri, 'net-undefine', uuid).catch(() => undefined);
  }
  for (const uuid of await listUuids(uri, 'pool-list')) {
    await virsh(uri, 'pool-destroy', uuid).catch(() => undefined);
    await virsh(uri, 'pool-undefine', uuid).catch(() => undefined);
  }
  const leftovers = [
    ...(await listUuids(uri, 'list')).map((uuid) => `domain ${uuid}`),
    ...lines(await virsh(uri, 'net-list', '--uuid')).map((uuid) => `active network ${uuid}`),
  ];
  if (leftovers.length > 0) throw new Error(`libvirtd still has ${leftovers.join(', ')}`);
}

async function readMntNs(state: DaemonState): Promise<string | undefined> {
  if (state.mntNs !== undefined) return state.mntNs;
  try {
    return (await readFile(state.layout.mntNs, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Terminates `pid` only while it is still in the daemon's mount namespace, so a reused pid is never hit. */
async function terminateMember(pid: number | undefined, mntNs: string): Promise<void> {
  if (pid !== undefined && (await readNamespace(pid, 'mnt')) === mntNs) await terminateProcess(pid);
}

async function listStragglers(mntNs: string, keepers: readonly number[]): Promise<number[]> {
  const members = await listProcessesInNamespace(mntNs, 'mnt');
  const descendants = (await Promise.all(keepers.map((pid) => listDescendants(pid)))).flat();
  return [...new Set([...members, ...descendants])].filter((pid) => !keepers.includes(pid));
}

/** With nothing left to reap a keeper exits by itself; one that does not is terminated. */
async function awaitKeeper(pid: number, mntNs: string): Promise<void> {
  if (!(await pollUntil(() => isProcessGone(pid), 2_000))) await terminateMember(pid, mntNs);
}

/** Stops a daemon as far as it got: API cleanup, daemons by pid, stragglers in its namespace, its files. */
export async function teardownDaemon(state: DaemonState): Promise<void> {
  const errors: unknown[] = [];
  const { keeperPid } = state;
  const keepers = [...(keeperPid === undefined ? [] : [keeperPid]), ...(state.relaunchKeeperPids ?? [])];
  const mntNs = await readMntNs(state);
  if (mntNs !== undefined) {
    if (state.libvirtdPid !== undefined && (await readNamespace(state.libvirtdPid, 'mnt')) === mntNs) {
      await removeLibvirtObjects(state.uri).catch((error: unknown) => errors.push(error));
    }
    try {
      await terminateMember(state.libvirtdPid, mntNs);
      await terminateMember(state.virtlogdPid, mntNs);
      // Anything else left (a qemu or dnsmasq the API failed to stop) keeps the namespace alive.
      // Every orphaned daemon is the keeper's child, whatever namespace it may have moved to.
      const stragglers = await listStragglers(mntNs, keepers);
      await Promise.all(stragglers.map((pid) => terminateProcess(pid)));
      await Promise.all(keepers.map((pid) => awaitKeeper(pid, mntNs)));
      const survivors = await listStragglers(mntNs, keepers);
      if (survivors.length > 0) throw new Error(`processes ${survivors.join(', ')} survive in ${mntNs}`);
      if (state.partitionsBefore !== undefined) await removeNewMachinePartitions(state.partitionsBefore);
    } catch (error) {
      errors.push(error);
    }
  }
  if (mntNs === undefined && keeperPid !== undefined) {
    // The script never got as far as the namespace: the keeper has nothing to reap and exits at once.
    await pollUntil(() => isProcessGone(keeperPid), 2_000);
  }
  await rm(state.layout.root, { recursive: true, force: true }).catch((error: unknown) => errors.push(error));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `stopping libvirtd at ${state.layout.root} failed`);
}
