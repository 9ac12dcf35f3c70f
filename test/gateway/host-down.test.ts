import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the host-down cases: ${skip}`);

describe.skipIf(skip !== undefined)('two hosts, one of which goes away', () => {
  let daemon: PrivateLibvirtd;
  let gw: TestGateway;

  beforeAll(async () => {
    daemon = await startLibvirtd({ name: 'down' });
    gw = await startGateway({ builtin: 'test:///default', doomed: daemon.uri });
  });
  afterAll(async () => {
    await gw?.close();
    await daemon?.stop();
  });

  const query = `{ hosts { name connected hypervisor { type } domains { name } networks { name } } }`;

  it('answers both while both are up', async () => {
    const res = await gw.query(query);
    expect(res.errors).toBeUndefined();
    expect(res.data?.hosts).toMatchObject([
      { name: 'builtin', connected: true, hypervisor: { type: 'TEST' }, domains: [{ name: 'test' }] },
      { name: 'doomed', connected: true, hypervisor: { type: 'QEMU' }, networks: [{ name: 'virtql-nat' }] },
    ]);
  });

  it('keeps answering for the other host when one daemon is gone, with errors on its fields only', async () => {
    await daemon.stop();
    const res = await gw.query(query);
    const [builtin, doomed] = (res.data as { hosts: Array<Record<string, unknown>> }).hosts;
    expect(builtin).toEqual({
      name: 'builtin',
      connected: true,
      hypervisor: { type: 'TEST' },
      domains: [{ name: 'test' }],
      networks: [{ name: 'default' }],
    });
    expect(doomed).toEqual({
      name: 'doomed',
      connected: false,
      hypervisor: { type: null },
      domains: null,
      networks: null,
    });
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors ?? []) {
      expect(e.path?.[1]).toBe(1);
      expect(e.extensions?.code).toBe('CONNECTION_FAILED');
    }
  });

  it('stays ready with one host of two down, with each host state but no name nor libvirt error', async () => {
    const res = await gw.app.yoga.fetch('http://localhost/ready');
    expect(res.status).toBe(200);
    const body = await res.json();
    // The route is public: host names only with ready.hostNames (see the readiness tests).
    expect(body).toEqual({
      ready: true,
      serving: true,
      minHosts: 1,
      connected: 1,
      hosts: [{ state: 'connected' }, { state: 'down' }],
    });
    // /health is liveness only: it says nothing of the hosts.
    expect((await gw.app.yoga.fetch('http://localhost/health')).status).toBe(200);
  });

  it('is not ready when fewer hosts than ready.minHosts are connected', async () => {
    const strict = await startGateway({ builtin: 'test:///default', doomed: daemon.uri }, 'builtin', {
      config: { ready: { minHosts: 2 } },
    });
    try {
      const res = await strict.app.yoga.fetch('http://localhost/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false, minHosts: 2, connected: 1 });
    } finally {
      await strict.close();
    }
  });
});
