import { readdir, readlink } from 'node:fs/promises';

export type NamespaceKind = 'mnt' | 'net';

/** The namespace identity of a live process, e.g. `mnt:[4026532301]`; undefined once it has exited. */
export async function readNamespace(pid: number, kind: NamespaceKind): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** Pids of the live processes in the namespace `id` (zombies have left every namespace). */
export async function listProcessesInNamespace(id: string, kind: NamespaceKind): Promise<number[]> {
  const entries = await readdir('/proc');
  const pids = entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
  const members = await Promise.all(pids.map(async (pid) => ((await readNamespace(pid, kind)) === id ? pid : 0)));
  return members.filter((pid) => pid !== 0);
}
