import { describe, expect, it } from 'vitest';
import { Connection, LibvirtError } from '../../src/libvirt/index.ts';
import { domainEvent, EventQueue } from '../support/event-queue.ts';
import { deferred, openFixtureHost } from '../support/test-host.ts';

const gc = (globalThis as { gc?: () => void }).gc;

async function collectGarbage(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('Robustness', () => {
  it('keeps delivering events after the objects of an event-registered connection are collected', async () => {
    let received = 0;
    const all = deferred<void>();
    // Only the listener survives: the connection, its domains and every event payload are garbage.
    await (async () => {
      const dropped = await Connection.open('test:///default');
      await dropped.subscribe((e) => {
        if (e.kind === 'domain') received += 1;
        if (received === 100) all.resolve();
      });
      for (let i = 0; i < 2000; i++) await dropped.domainByName('test');
    })();
    await collectGarbage();

    const driver = await Connection.open('test:///default');
    const q = await EventQueue.on(driver);
    const d = await driver.domainByName('test');
    for (let i = 0; i < 50; i++) {
      await d.suspend();
      await q.next(domainEvent('test', 'SUSPENDED'));
      await d.resume();
      await q.next(domainEvent('test', 'RESUMED'));
      if (i % 10 === 0) await collectGarbage();
    }
    await all.promise;
    expect(received).toBe(100);
    q.stop();
    await driver.close();
  });

  it('frees collected handles without disturbing live ones', async () => {
    const c = await openFixtureHost();
    const kept = await c.domainByName('web');
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 1000 }, () => c.domainByName('db')));
      await collectGarbage();
    }
    expect((await kept.info()).state).toBe('RUNNING');
    await c.close();
  });

  it('settles every call in flight when the connection closes under it', async () => {
    const c = await openFixtureHost();
    const web = await c.domainByName('web');
    const calls = Array.from({ length: 300 }, (_, i) => (i % 2 ? web.info() : c.domainByName('db')));
    const closing = c.close();
    const results = await Promise.allSettled(calls);
    await closing;
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LibvirtError);
    }
    await expect(web.info()).rejects.toMatchObject({ codeName: 'INVALID_CONN' });
  });

  it('closes twice, and concurrently, without harm', async () => {
    const c = await openFixtureHost();
    await c.subscribe(() => undefined);
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(await c.isAlive()).toBe(false);
  });
});
