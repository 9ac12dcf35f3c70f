import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain, LibvirtEvent } from '../../src/libvirt/index.ts';
import { domainEvent, EventQueue } from '../support/event-queue.ts';
import {
  buildGuestImage,
  countMarker,
  GUEST_POWEROFF_MARKER,
  type GuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
  waitForConsole,
} from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the guest OS cases: ${skip}`);

/** A TCG boot takes 3-8 s here, more on a loaded machine. */
const BOOT_MS = 60_000;
const SHUTDOWN_MS = 60_000;
const TEST_MS = 150_000;

/** Rejects if `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timeout.addEventListener('abort', () => reject(new Error(`${what} did not happen within ${ms} ms`)));
    }),
  ]);
}

/** Polls `read` until `done` holds or `ms` passes; returns the last value read. */
async function pollFor<T>(read: () => Promise<T>, done: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await delay(200);
  }
}

describe.skipIf(skip !== undefined)('a tiny Linux guest under TCG', () => {
  let c: Connection;
  let q: EventQueue;
  let image: GuestImage;
  let root: string;
  const created = new Set<string>();

  const consoleLog = (name: string) => join(root, `${name}.console.log`);

  /** Starts the domain (truncating its console log) and waits for the guest's READY marker. */
  async function boot(d: Domain): Promise<void> {
    await d.start();
    await waitForConsole(consoleLog(d.name), { timeoutMs: BOOT_MS });
  }

  beforeAll(async () => {
    image = await buildGuestImage();
    root = privateDaemon()?.root ?? '/tmp';
    c = await openPrivateDaemon();
    q = await EventQueue.on(c);
  });

  afterAll(async () => {
    if (c === undefined) return;
    for (const name of created) {
      const d = await c.domainByName(name).catch(() => undefined);
      if (d === undefined) continue;
      if (await d.isActive().catch(() => false)) await d.destroy().catch(() => undefined);
      await d.undefine().catch(() => undefined);
    }
    q?.stop();
    await c.close();
  });

  // One domain for all three cases: every TCG boot costs seconds, so the balloon case reuses the
  // guest that the reboot case leaves running (and boots it itself when run alone).
  const name = 'virtql-guest';
  let d: Domain;

  beforeAll(async () => {
    created.add(name);
    d = await c.defineDomain(guestDomainXml({ name, image, memoryMiB: 256, consoleLog: consoleLog(name) }));
  });

  it(
    'boots to the READY marker, then shuts down through ACPI',
    async () => {
      await boot(d);
      expect((await d.state()).state).toBe('RUNNING');
      const stopped = q.next(domainEvent(name, 'STOPPED'));
      await d.shutdown();
      expect((await within(stopped, SHUTDOWN_MS, 'STOPPED after shutdown()')).detail).toBe('SHUTDOWN');
      expect(await d.state()).toEqual({ state: 'SHUTOFF', reason: 'SHUTDOWN' });
      // It went down because the guest saw the power button, not because QEMU was killed.
      expect(await readFile(consoleLog(name), 'utf8')).toContain(GUEST_POWEROFF_MARKER);
    },
    TEST_MS,
  );

  it(
    'boots again and reboots in the same QEMU process',
    async () => {
      if (await d.isActive()) await d.destroy();
      await boot(d);
      const id = await d.currentId();
      const before = q.seen.length;
      await d.reboot();
      const log = await waitForConsole(consoleLog(name), { count: 2, timeoutMs: SHUTDOWN_MS + BOOT_MS });
      expect(countMarker(log, GUEST_POWEROFF_MARKER)).toBe(1);
      expect((await d.state()).state).toBe('RUNNING');
      expect(await d.currentId()).toBe(id);
      const stops = q.seen
        .slice(before)
        .filter((e: LibvirtEvent) => e.kind === 'domain' && e.domain.name === name && e.type === 'STOPPED');
      expect(stops).toEqual([]);
    },
    TEST_MS,
  );

  it(
    'gives memory back through the virtio balloon',
    async () => {
      if (!(await d.isActive())) await boot(d);
      const full = 256n * 1024n;
      const target = 160n * 1024n;
      expect((await d.info()).memoryKiB).toBe(full);
      await d.setMemory(target, 'live');
      const info = await pollFor(
        () => d.info(),
        (i) => i.memoryKiB === target,
        30_000,
      );
      expect(info).toMatchObject({ state: 'RUNNING', memoryKiB: target, maxMemoryKiB: full });
      const [stats] = (await c.allDomainStats(['BALLOON'])).filter((s) => s.domain.name === name);
      expect(BigInt(stats?.params['balloon.current'] ?? -1)).toBe(target);
    },
    TEST_MS,
  );
});
