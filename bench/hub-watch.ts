import type { EventHub, EventHubStats } from '../src/events/event-hub.ts';

/** Resolves true once the hub's stats pass `check`, false after timeoutMs. */
export function untilHub(hub: EventHub, check: (stats: EventHubStats) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      off();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const off = hub.onChange(() => {
      if (check(hub.stats())) finish(true);
    });
    if (check(hub.stats())) finish(true);
  });
}
