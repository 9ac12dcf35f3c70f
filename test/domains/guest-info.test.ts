import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { NAT_NETWORK, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { fixtureUri } from '../support/test-host.ts';

describe('guest addresses, guest info and graphics on the test driver', () => {
  let gw: TestGateway;

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('gives each NIC the addresses the driver reports for its MAC, per source', async () => {
    const res = await gw.query<{
      domain: { interfaces: Array<{ mac: string; lease: unknown[]; agent: unknown[] }> };
    }>(
      '{ domain(ref: { name: "web" }) { interfaces { mac lease: addresses { type address prefix } agent: addresses(source: AGENT) { address } } } }',
    );
    expect(res.errors).toBeUndefined();
    const [nic] = res.data?.domain.interfaces ?? [];
    expect(nic?.lease).toEqual([{ type: 'IPV4', address: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), prefix: 24 }]);
    expect(nic?.agent).toHaveLength(1);
  });

  it('a shut-off domain has no addresses', async () => {
    const res = await gw.query('{ domain(ref: { name: "db" }) { interfaces { addresses { address } } } }');
    expect(res.errors).toBeUndefined();
  });

  it('guestInfo is UNSUPPORTED where libvirt cannot ask an agent; a bad timeout is INVALID_INPUT', async () => {
    const res = await gw.query('{ domain(ref: { name: "web" }) { guestInfo { hostname } } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED');
    const bad = await gw.query('{ domain(ref: { name: "web" }) { guestInfo(timeoutSeconds: 0) { hostname } } }');
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'timeoutSeconds' });
  });

  it('lists graphics from the definition', async () => {
    const xml = `<domain type='test'><name>gfx</name><memory>1024</memory><os><type>hvm</type></os>
      <devices><graphics type='vnc' port='5907' autoport='no' listen='127.0.0.1'/><graphics type='spice' autoport='yes'/></devices></domain>`;
    expect(
      (await gw.query('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', { xml }))
        .errors,
    ).toBeUndefined();
    const res = await gw.query<{ domain: { graphics: unknown[] } }>(
      '{ domain(ref: { name: "gfx" }) { graphics { type listen port autoport socket } } }',
    );
    expect(res.data?.domain.graphics).toEqual([
      { type: 'VNC', listen: '127.0.0.1', port: 5907, autoport: false, socket: null },
      { type: 'SPICE', listen: null, port: null, autoport: true, socket: null },
    ]);
  });
});

const skip = privateDaemonSkipReason();
describe.skipIf(skip !== undefined)('guest agent and graphics on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  const NAME = 'agentless';

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
    // No OS, so no agent ever answers on its channel.
    const d = await c.defineDomain(`<domain type='${daemon.kvm ? 'kvm' : 'qemu'}'>
  <name>${NAME}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <interface type='network'><source network='${NAT_NETWORK}'/><model type='virtio'/></interface>
  </devices>
</domain>`);
    await d.start();
  });
  afterAll(async () => {
    const d = await c?.domainByName(NAME).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    await d?.undefine();
    await gw?.close();
    await c?.close();
  });

  it('guestInfo and AGENT addresses are UNSUPPORTED without an agent, well within the timeout', async () => {
    const started = Date.now();
    const info = await gw.query(
      `{ domain(host: "qemu", ref: { name: "${NAME}" }) { guestInfo(timeoutSeconds: 2) { hostname } } }`,
    );
    expect(info.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED');
    expect(info.errors?.[0]?.message).toContain('no guest agent answers');
    const addresses = await gw.query(`{ domain(host: "qemu", ref: { name: "${NAME}" }) { interfaces { mac } } }`);
    expect(addresses.errors).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports the VNC port libvirt picked at start', async () => {
    const res = await gw.query<{
      domain: { graphics: Array<{ type: string; port: number; autoport: boolean; listen: string }> };
    }>(`{ domain(host: "qemu", ref: { name: "${NAME}" }) { graphics { type port autoport listen } } }`);
    expect(res.errors).toBeUndefined();
    const [vnc] = res.data?.domain.graphics ?? [];
    expect(vnc).toMatchObject({ type: 'VNC', autoport: true, listen: '127.0.0.1' });
    expect(vnc?.port).toBeGreaterThanOrEqual(5900);
  });
});
