import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { makeCa, makeLeaf, makePkiPath } from '../support/libvirt-pki.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { forwardIntoNetns, type NetnsForwarder } from '../support/netns-forwarder.ts';
import { privateDaemonSkipReason } from '../support/private-daemon.ts';

// A remote host over TLS as the README describes it: the private libvirtd listens for TLS with a
// certificate from a CA made here, and the gateway connects with a pkipath directory holding
// cacert.pem, clientcert.pem and clientkey.pem.

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the TLS host cases: ${skip}`);

describe.skipIf(skip !== undefined)('a host over TLS with pkipath', () => {
  let dir: string;
  let daemon: PrivateLibvirtd;
  let forwarder: NetnsForwarder;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-tls-host-'));
    const [ca, otherCa, server, client, stranger] = ['ca', 'other-ca', 'server', 'client', 'stranger'].map((d) =>
      join(dir, d),
    ) as [string, string, string, string, string];
    await Promise.all([makeCa(ca, 'virtql test CA'), makeCa(otherCa, 'another CA')]);
    await Promise.all([
      makeLeaf(ca, server, 'server', 'IP:127.0.0.1,DNS:localhost'),
      makeLeaf(ca, client, 'client', 'DNS:gateway'),
      makeLeaf(otherCa, stranger, 'client', 'DNS:stranger'),
    ]);
    await copyFile(join(ca, 'cacert.pem'), join(server, 'cacert.pem'));
    await Promise.all([
      makePkiPath(join(dir, 'pki-good'), ca, client),
      // A client certificate the daemon's CA did not sign.
      makePkiPath(join(dir, 'pki-stranger'), ca, stranger),
      // Trusting another CA: the daemon's certificate does not verify.
      makePkiPath(join(dir, 'pki-distrust'), otherCa, client),
    ]);
    daemon = await startLibvirtd({ name: 'tls', tlsDir: server });
    // The daemon listens on the loopback of its own network namespace.
    forwarder = await forwardIntoNetns(daemon.netnsPid, daemon.tlsPort ?? 0);
    // no_sanity: libvirt would otherwise refuse its own mismatched files before reaching the daemon.
    const host = (name: string, pki: string, noSanity = false) => ({
      name,
      transport: 'tls',
      host: '127.0.0.1',
      port: forwarder.port,
      path: 'system',
      params: { pkipath: join(dir, pki), ...(noSanity ? { no_sanity: '1' } : {}) },
    });
    gw = await startGateway({ builtin: 'test:///default' }, 'builtin', {
      config: {
        hosts: [
          host('good', 'pki-good'),
          host('stranger', 'pki-stranger', true),
          host('distrust', 'pki-distrust', true),
        ],
      },
    });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await forwarder?.close();
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = 'query($name: String!) { host(name: $name) { connected lastError hostname domains { name } } }';
  type HostData = { host: { connected: boolean; lastError: string | null; hostname: string | null } };

  it('connects with the CA, client certificate and key in pkipath', async () => {
    const res = await gw.query<HostData>(query, { name: 'good' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.host).toMatchObject({ connected: true, lastError: null });
    expect(res.data?.host.hostname).toBeTruthy();
  });

  it('a client certificate of another CA, or a server certificate the pkipath CA did not sign, is CONNECTION_FAILED', async () => {
    // The daemon hangs up on the stranger's certificate; the gateway refuses the daemon's.
    const why = { stranger: /TLS/, distrust: /verify peer's certificate/ };
    for (const [name, reason] of Object.entries(why)) {
      const res = await gw.query<HostData>(query, { name });
      expect(res.data?.host.connected).toBe(false);
      expect(res.data?.host.lastError).toMatch(reason);
      expect(res.errors?.[0]?.extensions?.code).toBe('CONNECTION_FAILED');
    }
  });
});
