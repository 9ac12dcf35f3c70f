import { afterEach, describe, expect, it } from 'vitest';
import { Connection, ErrorNumber, LibvirtError } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import { fixtureUri, openFixtureHost } from '../support/test-host.ts';

const opened: Connection[] = [];
async function open(uri = fixtureUri): Promise<Connection> {
  const c = await Connection.open(uri);
  opened.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

describe('Connection on the test driver', () => {
  it('reports the host facts of the fixture node', async () => {
    const c = await open();
    const info = await c.nodeInfo();
    expect(info).toMatchObject({ model: 'x86_64', memoryKiB: 16777216n, cpus: 8, mhz: 2400 });
    expect(typeof info.numaNodes).toBe('number');
    expect(info.sockets * info.cores * info.threads * info.numaNodes).toBeGreaterThan(0);
    expect(await c.hostname()).toBeTruthy();
    expect(await c.canonicalUri()).toBe(fixtureUri);
    expect(await c.hypervisorType()).toBe('TEST');
  });

  it('reports free memory as a 64-bit byte count', async () => {
    const c = await open('test:///default');
    const free = await c.freeMemoryBytes();
    expect(free).toBeTypeOf('bigint');
    expect(free).toBeGreaterThan(0n);
  });

  it('decodes libvirt and hypervisor versions', async () => {
    const c = await open();
    const lib = await c.libVersion();
    expect(lib.encoded).toBe(native.libraryVersion);
    expect(lib.text).toBe(`${lib.major}.${lib.minor}.${lib.release}`);
    expect(lib.major).toBeGreaterThanOrEqual(9);
    expect((await c.hypervisorVersion()).encoded).toBeGreaterThan(0);
  });

  it('returns the capabilities document', async () => {
    const c = await open('test:///default');
    const caps = await c.capabilities();
    expect(caps).toContain('<capabilities>');
    expect(caps).toContain('<arch>');
  });

  it('accepts credentials and the read-only flag', async () => {
    const c = await Connection.open(fixtureUri, { username: 'admin', password: 'secret', readonly: true });
    opened.push(c);
    expect(await c.isAlive()).toBe(true);
    const [web] = await c.domains('active');
    await expect(web?.suspend()).rejects.toMatchObject({ codeName: 'OPERATION_DENIED' });
  });

  it('has no keepalive on an in-process driver, and says so instead of failing', async () => {
    const c = await open();
    expect(await c.setKeepAlive(5, 3)).toBe(false);
  });

  it('rejects calls after close with INVALID_CONN, and closing twice is harmless', async () => {
    const c = await openFixtureHost();
    const [domain] = await c.domains();
    expect(await c.isAlive()).toBe(true);
    await c.close();
    await c.close();
    expect(c.closed).toBe(true);
    expect(await c.isAlive()).toBe(false);
    const failure = await c.hostname().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LibvirtError);
    expect(failure).toMatchObject({ code: ErrorNumber.INVALID_CONN, codeName: 'INVALID_CONN' });
    await expect(domain?.info()).rejects.toMatchObject({ code: ErrorNumber.INVALID_CONN });
  });

  it('fails to open an unreachable daemon with libvirt’s code and message', async () => {
    const failure = await Connection.open('qemu+tcp://127.0.0.1:1/system').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LibvirtError);
    expect(failure).toMatchObject({ codeName: 'SYSTEM_ERROR', domainName: 'RPC' });
    expect((failure as LibvirtError).message).toMatch(/Connection refused/);
  });

  it('fails to open a missing test node file with an XML error', async () => {
    await expect(Connection.open('test:///nonexistent/node.xml')).rejects.toMatchObject({ codeName: 'XML_ERROR' });
  });

  it('serves many concurrent calls on one connection', async () => {
    const c = await open();
    const names = await Promise.all(Array.from({ length: 500 }, (_, i) => c.domainByName(i % 2 ? 'web' : 'db')));
    expect(new Set(names.map((d) => d.uuid)).size).toBe(2);
  });
});
