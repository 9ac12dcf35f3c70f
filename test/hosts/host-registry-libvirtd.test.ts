import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { parseHostUri } from '../../src/hosts/uri.ts';
import { Connection } from '../../src/libvirt/index.ts';
import type { LibvirtdContext } from '../support/global-setup.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { deferred } from '../support/test-host.ts';

/**
 * inject() says whether a private libvirtd can run here (and is undefined under a config
 * without the global setup). This file starts a daemon of its own: restarting the shared
 * one would pull it from under the test files running beside this one.
 */
function skipReason(): string | undefined {
  const ctx = inject('libvirtd') as LibvirtdContext | undefined;
  if (ctx === undefined) return 'no private libvirtd in this run (the vitest global setup did not run)';
  return 'unavailable' in ctx ? `no private libvirtd on this machine: ${ctx.unavailable}` : undefined;
}

const skip = skipReason();
if (skip) console.warn(`skipping the host registry cases on libvirtd: ${skip}`);

describe.skipIf(skip !== undefined)('HostRegistry on a private libvirtd', () => {
  let daemon: PrivateLibvirtd;
  let registry: HostRegistry;

  beforeAll(async () => {
    daemon = await startLibvirtd({ name: 'hosts' });
    const socket = parseHostUri(daemon.uri).params?.socket;
    registry = new HostRegistry(
      await resolveConfig({
        hosts: [
          { name: 'qemu', transport: 'unix', params: { socket } },
          { name: 'test', uri: 'test:///default' },
          { name: 'down', transport: 'unix', params: { socket: join(daemon.root, 'nowhere', 'libvirt-sock') } },
        ],
      }),
      { logger: pino({ level: 'silent' }), reconnect: { initialDelayMs: 50, maxDelayMs: 400 } },
    );
  });

  afterAll(async () => {
    await registry?.close();
    await daemon?.stop();
  });

  it('opens the daemon on first use, with keepalive', async () => {
    const keepAlive = vi.spyOn(Connection.prototype, 'setKeepAlive');
    expect(registry.status('qemu')).toEqual({ connected: false });
    const connection = await registry.connection('qemu');
    expect(connection.uri).toBe(`qemu+unix:///system?socket=${join(daemon.root, 'sock', 'libvirt-sock')}`);
    expect(await connection.hypervisorType()).toBe('QEMU');
    expect(keepAlive).toHaveBeenCalledWith(5, 3);
    await expect(keepAlive.mock.results[0]?.value).resolves.toBe(true);
    expect(registry.status('qemu')).toEqual({ connected: true });
    keepAlive.mockRestore();
  });

  it('notices the daemon restart, keeps the other host working, and reconnects', async () => {
    const before = await registry.connection('qemu');
    const oldPid = daemon.pid;
    const lost = deferred<string>();
    const back = deferred<Connection>();
    const offLost = registry.on('disconnected', (host, reason) => host === 'qemu' && lost.resolve(reason));
    const offBack = registry.on('connected', (host, connection) => host === 'qemu' && back.resolve(connection));

    const restart = daemon.restart();
    expect(await lost.promise).toBe('libvirt closed the connection (EOF)');
    expect(before.closed).toBe(true);
    expect(registry.status('qemu')).toMatchObject({ connected: false, lastError: expect.stringContaining('EOF') });
    // The in-process test host does not care.
    const test = await registry.connection('test');
    expect((await test.domains()).map((d) => d.name)).toContain('test');
    await restart;
    expect(daemon.pid).not.toBe(oldPid);

    // The background reconnect (or this call, whichever is first: they share one open) brings a working connection.
    const after = await registry.connection('qemu');
    expect(after).not.toBe(before);
    expect(await back.promise).toBe(after);
    expect(await after.isAlive()).toBe(true);
    expect((await after.networks()).map((n) => n.name)).toContain('virtql-nat');
    expect(registry.status('qemu')).toEqual({ connected: true });
    expect(await registry.connection('test')).toBe(test);
    offLost();
    offBack();
  });

  it('is not ready while a host is down, and says why', async () => {
    expect(await registry.checkReady()).toEqual([
      { host: 'qemu', ok: true },
      { host: 'test', ok: true },
      { host: 'down', ok: false, error: expect.stringContaining('No such file or directory') },
    ]);
    expect(registry.status('down')).toEqual({ connected: false, lastError: expect.stringContaining('nowhere') });
  });

  it('closes every connection it opened', async () => {
    const qemu = await registry.connection('qemu');
    const test = await registry.connection('test');
    await registry.close();
    expect(qemu.closed).toBe(true);
    expect(test.closed).toBe(true);
  });
});
