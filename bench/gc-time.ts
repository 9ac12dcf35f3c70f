import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Garbage-collection time while `run` runs, from V8's gc performance entries: what share of a
 * measured run the collector took (issue 21 asks for it beside the inventory). The entries of the
 * whole process count, the gateway's and the load generator's alike when they share it.
 */
export async function withGcTime<T>(run: () => Promise<T>): Promise<{ value: T; gcMs: number }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    const value = await run();
    // Entries not yet delivered to the callback.
    for (const entry of observer.takeRecords()) gcMs += entry.duration;
    return { value, gcMs };
  } finally {
    observer.disconnect();
  }
}

/** `gc` of `total` milliseconds as a percentage, for a report line. */
export const gcShare = (gc: number, total: number) => `${((100 * gc) / total).toFixed(0)}%`;
