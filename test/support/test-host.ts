import { fileURLToPath } from 'node:url';
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
