import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIBUV_MAX_THREADS = 1024;
const STAT_PATIENCE_MS = 200;

function answersWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

// libuv reads UV_THREADPOOL_SIZE once, when its pool first starts, so the variable can overstate the pool.
// An open of a FIFO with no writer holds a pool thread without using a CPU, so parking them one by one
// until a stat finds no free thread counts the threads even on a 2-core machine.
export async function measureThreadpoolSize(): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'virtql-bench-'));
  const fifo = join(dir, 'park');
  const parked: Promise<FileHandle>[] = [];
  try {
    execFileSync('mkfifo', [fifo]);
    for (let n = 1; n <= LIBUV_MAX_THREADS; n++) {
      parked.push(open(fifo, 'r'));
      if (!(await answersWithin(stat(dir), STAT_PATIENCE_MS))) return n;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (parked.length > 0) {
      // Opening read-write never blocks on Linux and counts as the writer the parked opens wait for.
      const writer = openSync(fifo, 'r+');
      for (const handle of await Promise.all(parked)) await handle.close();
      closeSync(writer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
