import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connection, LibvirtEvent } from '../../src/libvirt/index.ts';
import { domainEvent, EventQueue, networkEvent, poolEvent } from '../support/event-queue.ts';
import { deferred, openFixtureHost } from '../support/test-host.ts';

const domainXml = `<domain type="test"><name>evented</name><memory unit="KiB">131072</memory>
  <os><type arch="x86_64">hvm</type></os></domain>`;

let c: Connection;
let q: EventQueue;
beforeEach(async () => {
  c = await openFixtureHost();
  q = await EventQueue.on(c);
});
afterEach(async () => {
  q.stop();
  await c.close();
});

describe('Lifecycle events on the test driver', () => {
  it('delivers define, start, suspend, resume, destroy and undefine with their details', async () => {
    const d = await c.defineDomain(domainXml);
    expect((await q.next(domainEvent('evented', 'DEFINED'))).detail).toBe('ADDED');
    await d.start();
    expect((await q.next(domainEvent('evented', 'STARTED'))).detail).toBe('BOOTED');
    await d.suspend();
    expect((await q.next(domainEvent('evented', 'SUSPENDED'))).detail).toBe('PAUSED');
    await d.resume();
    expect((await q.next(domainEvent('evented', 'RESUMED'))).detail).toBe('UNPAUSED');
    await d.destroy();
    const stopped = await q.next(domainEvent('evented', 'STOPPED'));
    expect(stopped.detail).toBe('DESTROYED');
    expect(stopped.domain.uuid).toBe(d.uuid);
    await d.undefine();
    expect((await q.next(domainEvent('evented', 'UNDEFINED'))).detail).toBe('REMOVED');
    const types = q.seen.filter((e) => e.kind === 'domain').map((e) => e.type);
    expect(types).toEqual(['DEFINED', 'STARTED', 'SUSPENDED', 'RESUMED', 'STOPPED', 'UNDEFINED']);
  });

  it('hands out a usable domain object with each event', async () => {
    const web = await c.domainByName('web');
    await web.suspend();
    const event = await q.next(domainEvent('web', 'SUSPENDED'));
    expect((await event.domain.state()).state).toBe('PAUSED');
    expect(event.receivedAt).toBeInstanceOf(Date);
  });

  it('delivers network start and stop', async () => {
    const lan = await c.networkByName('lan');
    await lan.stop();
    await q.next(networkEvent('lan', 'STOPPED'));
    await lan.start();
    await q.next(networkEvent('lan', 'STARTED'));
  });

  it('delivers storage pool stop and start', async () => {
    const pool = await c.storagePoolByName('default-pool');
    await pool.stop();
    await q.next(poolEvent('default-pool', 'STOPPED'));
    await pool.start();
    await q.next(poolEvent('default-pool', 'STARTED'));
  });
});

describe('Fan-out', () => {
  it('registers with libvirt once and fans out to every listener until it unsubscribes', async () => {
    const second: LibvirtEvent[] = [];
    const unsubscribe = await c.subscribe((e) => second.push(e));
    expect(c.listenerCount).toBe(2);
    const web = await c.domainByName('web');
    await web.suspend();
    await q.next(domainEvent('web', 'SUSPENDED'));
    expect(second.map((e) => e.kind === 'domain' && e.type)).toEqual(['SUSPENDED']);
    unsubscribe();
    expect(c.listenerCount).toBe(1);
    await web.resume();
    await q.next(domainEvent('web', 'RESUMED'));
    expect(second).toHaveLength(1);
  });

  it('keeps delivering to others when one listener throws', async () => {
    const thrown = deferred<unknown>();
    const onUncaught = (e: unknown) => thrown.resolve(e);
    process.once('uncaughtException', onUncaught);
    const unsubscribe = await c.subscribe(() => {
      throw new Error('listener bug');
    });
    const web = await c.domainByName('web');
    await web.suspend();
    await q.next(domainEvent('web', 'SUSPENDED'));
    expect(await thrown.promise).toMatchObject({ message: 'listener bug' });
    unsubscribe();
  });

  it('refuses to subscribe on a closed connection', async () => {
    const other = await openFixtureHost();
    await other.close();
    await expect(other.subscribe(() => undefined)).rejects.toMatchObject({ codeName: 'INVALID_CONN' });
  });
});
