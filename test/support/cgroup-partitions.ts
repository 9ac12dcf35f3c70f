import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** libvirt's default resource partition for guests, created on first guest start and never removed. */
const PARTITION = 'machine';

/** The `machine` partitions that exist now, on cgroup v2 (`/sys/fs/cgroup/machine`) or under each v1 hierarchy. */
export async function listMachinePartitions(): Promise<string[]> {
  let hierarchies: string[];
  try {
    hierarchies = (await readdir(CGROUP_ROOT, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(CGROUP_ROOT, entry.name));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const dir of [CGROUP_ROOT, ...hierarchies]) {
    try {
      if ((await readdir(dir)).includes(PARTITION)) found.push(join(dir, PARTITION));
    } catch {
      // An unreadable hierarchy holds nothing of ours.
    }
  }
  return found;
}

/** rmdir depth first; cgroupfs refuses a cgroup that still holds a process, so those (and their parents) stay. */
async function removeCgroupTree(dir: string): Promise<void> {
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await removeCgroupTree(join(dir, entry.name));
    }
    await rmdir(dir);
  } catch {
    // Busy or already gone.
  }
}

/**
 * Removes the partitions that appeared since `before`, with the guest cgroups
 * a killed libvirtd left in them. A partition whose guests still run (another
 * daemon's) stays.
 */
export async function removeNewMachinePartitions(before: readonly string[]): Promise<void> {
  const existing = new Set(before);
  for (const partition of await listMachinePartitions()) {
    if (!existing.has(partition)) await removeCgroupTree(partition);
  }
}
