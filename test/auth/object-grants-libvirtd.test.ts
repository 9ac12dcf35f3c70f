import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { withoutOtherNames } from '../../src/schema/core/define-conflicts.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  bareDomainXml,
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

// Item 4 of issue 18 on the real drivers (QEMU, the network and the storage driver), whose
// messages differ from the test driver's: a tenant's define or create that collides with an
// object it cannot see learns nothing of that object, and the host keeps nothing of the attempt.

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the private-libvirtd isolation cases: ${skip}`);

const tenant = createApiToken();
const HIDDEN = 'iso-hidden-vm';

describe.skipIf(skip !== undefined)('a tenant on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  let hiddenUuid: string;
  let poolTarget: string;
  let networkUuid: string;
  let poolUuid: string;
  const call = (query: string, variables?: Record<string, unknown>) =>
    gw.query(query, variables, { authorization: `Bearer ${tenant.secret}` });

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    c = await openPrivateDaemon();
    hiddenUuid = (await c.defineDomain(bareDomainXml(HIDDEN, daemon.kvm))).uuid;
    const pool = await c.storagePoolByName(DIR_POOL);
    poolUuid = pool.uuid;
    poolTarget = parseStoragePoolXml(await pool.xml()).targetPath as string;
    networkUuid = (await c.networkByName(NAT_NETWORK)).uuid;
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        auth: {
          tokens: [{ name: 'tenant', sha256: tenant.sha256 }],
          grants: [
            {
              identity: 'tenant',
              role: 'admin',
              domains: ['team-a-*'],
              pools: ['team-a*'],
              networks: ['team-a*'],
            },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await (await c?.domainByName(HIDDEN).catch(() => undefined))?.undefine();
    await gw?.close();
    await c?.close();
  });

  async function names() {
    return {
      domains: (await c.domains()).map((d) => d.name).sort(),
      networks: (await c.networks()).map((n) => n.name).sort(),
      pools: (await c.storagePools()).map((p) => p.name).sort(),
    };
  }

  it('sees none of the daemon’s own pools, networks or domains', async () => {
    const res = await call('{ host { domains { name } networks { name } storagePools { name } } }');
    expect(res.data).toEqual({ host: { domains: [], networks: [], storagePools: [] } });
  });

  it('a UUID in use is "UUID already in use", and a pool over another pool’s target names no pool', async () => {
    const before = await names();
    const domain = (verb: string) =>
      `<domain type='qemu'><name>team-a-${verb}</name><uuid>${hiddenUuid}</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`;
    const attempts: Array<[string, string]> = [
      ['defineDomainFromXml', domain('define')],
      ['createDomainFromXml', domain('create')],
      ['createNetwork', `<network><name>team-a-net</name><uuid>${networkUuid}</uuid></network>`],
      [
        'createStoragePool',
        `<pool type='dir'><name>team-a-pool</name><uuid>${poolUuid}</uuid><target><path>${poolTarget}/team-a</path></target></pool>`,
      ],
    ];
    for (const [name, xml] of attempts) {
      const res = await call(`mutation($xml: String!) { ${name}(input: { xml: $xml }) { __typename } }`, { xml });
      expect(res.errors?.[0]?.message, name).toBe('xml: UUID already in use');
    }
    const over = await call('mutation($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }', {
      xml: `<pool type='dir'><name>team-a-over</name><target><path>${poolTarget}</path></target></pool>`,
    });
    expect(over.errors?.[0]?.extensions?.code).toBeDefined();
    expect(JSON.stringify(over.errors)).not.toContain(DIR_POOL);
    expect(await names()).toEqual(before);
  });

  it('libvirt’s own collision messages (what a race would bring) are reworded without the other object', async () => {
    // What each real driver answers when asked directly, passed through the gateway's rewording.
    const kvm = privateDaemon()?.kvm ?? false;
    const failures: Array<() => Promise<unknown>> = [
      () => c.defineDomain(bareDomainXml('team-a-race', kvm).replace('<name>', `<uuid>${hiddenUuid}</uuid><name>`)),
      () => c.defineNetwork(`<network><name>team-a-race</name><uuid>${networkUuid}</uuid></network>`),
      () =>
        c.defineStoragePool(
          `<pool type='dir'><name>team-a-race</name><uuid>${poolUuid}</uuid><target><path>/tmp/team-a-race</path></target></pool>`,
        ),
      () =>
        c.defineStoragePool(
          `<pool type='dir'><name>team-a-race</name><target><path>${poolTarget}</path></target></pool>`,
        ),
    ];
    const existing = [...(await c.domains()), ...(await c.networks()), ...(await c.storagePools())].map((o) => ({
      name: o.name,
      uuid: o.uuid,
    }));
    for (const attempt of failures) {
      const raw = await attempt().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(raw, 'libvirt accepted a colliding definition').toBeInstanceOf(Error);
      // The raw message names the other object: the rewording is what keeps it out.
      expect(existing.some((o) => raw?.message.includes(o.name) || raw?.message.includes(o.uuid))).toBe(true);
      let reworded: Error | undefined;
      try {
        withoutOtherNames('object', 'team-a-race', existing)(raw);
      } catch (e) {
        reworded = e as Error;
      }
      expect(reworded?.message).toMatch(/^xml: /);
      for (const o of existing) {
        expect(reworded?.message).not.toContain(o.uuid);
        if (o.name !== 'team-a-race') expect(reworded?.message).not.toContain(`'${o.name}'`);
      }
    }
  });
});
