import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';

/** test:///<path> to the fixture host: each connection gets its own fresh copy of its state. */
export const fixtureUri = `test://${fileURLToPath(new URL('../fixtures/node.xml', import.meta.url))}`;

export function openFixtureHost(): Promise<Connection> {
  return Connection.open(fixtureUri);
}

/** A promise with its resolve/reject exposed, for waiting on events without sleeps. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Opens test:///default and a fresh fixture host before a suite's tests and closes both
 * after it; read them as `hosts.def` and `hosts.host` inside the tests.
 */
export function useTestDriverHosts(): { def: Connection; host: Connection } {
  const hosts = {} as { def: Connection; host: Connection };
  beforeAll(async () => {
    hosts.def = await Connection.open('test:///default');
    hosts.host = await openFixtureHost();
  });
  afterAll(async () => {
    await hosts.def?.close();
    await hosts.host?.close();
  });
  return hosts;
}
