import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const UEFI_DB = `<domain type='test'><name>uefi</name><memory>1024</memory>
  <os><type>hvm</type><loader readonly='yes' type='pflash'>/default-pool/OVMF_CODE.fd</loader>
  <nvram>/default-pool/uefi_VARS.fd</nvram></os></domain>`;

describe('undefineDomain asks for what would go with the definition (test driver)', () => {
  let gw: TestGateway;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  async function defined(name: string): Promise<boolean> {
    const res = await gw.query(`{ domain(ref: { name: "${name}" }) { name } }`);
    return res.data?.domain != null;
  }

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('refuses a domain with snapshots until snapshotsMetadata is given, naming the option', async () => {
    await ok(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "one" } }) { name } }',
    );
    await ok(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "two" } }) { name } }',
    );
    const refused = await gw.query('mutation { undefineDomain(input: { domain: { name: "db" } }) { name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(refused.errors?.[0]?.message).toContain('2 snapshots');
    expect(refused.errors?.[0]?.message).toContain('snapshotsMetadata: true');
    expect(await defined('db')).toBe(true);

    const done = await ok<{ undefineDomain: { name: string; removedVolumes: null } }>(
      'mutation { undefineDomain(input: { domain: { name: "db" }, snapshotsMetadata: true }) { name removedVolumes } }',
    );
    expect(done.undefineDomain).toEqual({ name: 'db', removedVolumes: null });
    expect(await defined('db')).toBe(false);
  });

  it('refuses a domain with a managed save image until managedSave is given', async () => {
    await ok('mutation { managedSaveDomain(input: { domain: { name: "web" } }) { state } }');
    const refused = await gw.query('mutation { undefineDomain(input: { domain: { name: "web" } }) { name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(refused.errors?.[0]?.message).toContain('managedSave: true');
    expect(await defined('web')).toBe(true);
    await ok('mutation { undefineDomain(input: { domain: { name: "web" }, managedSave: true }) { name } }');
    expect(await defined('web')).toBe(false);
  });

  it('refuses a UEFI domain without an nvram choice, naming its NVRAM file', async () => {
    await ok('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', { xml: UEFI_DB });
    const refused = await gw.query('mutation { undefineDomain(input: { domain: { name: "uefi" } }) { name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(refused.errors?.[0]?.message).toContain('nvram: REMOVE or nvram: KEEP');
    expect(refused.errors?.[0]?.message).toContain('/default-pool/uefi_VARS.fd');
    expect(await defined('uefi')).toBe(true);
  });

  it('removeStorage deletes the pool volumes behind its disks and says which', async () => {
    await ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    const done = await ok<{ undefineDomain: { removedVolumes: string[] } }>(
      'mutation { undefineDomain(input: { domain: { name: "web" }, removeStorage: true }) { removedVolumes } }',
    );
    expect(done.undefineDomain.removedVolumes).toEqual(['/default-pool/web.img']);
    const vol = await gw.query('{ volume(ref: { path: "/default-pool/web.img" }) { name } }');
    expect(vol.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a plain undefine of a domain without snapshots, managed save or NVRAM needs no option', async () => {
    await ok('mutation { undefineDomain(input: { domain: { name: "db" } }) { name } }');
    expect(await defined('db')).toBe(false);
  });
});

describe('undefineDomain removeStorage and the pools it deletes from (test driver)', () => {
  const tokens = { admin: createApiToken(), tenant: createApiToken() };
  let gw: TestGateway;
  const as = (who: keyof typeof tokens) => (query: string, variables?: Record<string, unknown>) =>
    gw.query(query, variables, { authorization: `Bearer ${tokens[who].secret}` });

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri }, undefined, {
      config: {
        storage: { allowedPaths: ['/other'] },
        auth: {
          tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
          roles: { owner: ['VM.Audit', 'VM.Allocate', 'Storage.Audit', 'Storage.Use', 'Storage.Allocate'] },
          grants: [
            { identity: 'admin', role: 'admin' },
            // Storage.Allocate on default-pool only: the tenant may delete volumes there, not in other-pool.
            { identity: 'tenant', role: 'owner', domains: ['t-*'], pools: ['default-pool'] },
            { identity: 'tenant', role: 'viewer', pools: ['other-pool'] },
          ],
        },
      },
    });
    const admin = as('admin');
    for (const [query, variables] of [
      [
        'mutation ($x: String!) { createStoragePool(input: { xml: $x }) { name } }',
        {
          x: '<pool type="dir"><name>other-pool</name><target><path>/other</path></target></pool>',
        },
      ],
      [
        'mutation { createVolume(input: { pool: "default-pool", xml: "<volume><name>t-a.img</name><capacity>1048576</capacity></volume>" }) { name } }',
        {},
      ],
      [
        'mutation { createVolume(input: { pool: "other-pool", xml: "<volume><name>t-b.img</name><capacity>1048576</capacity></volume>" }) { name } }',
        {},
      ],
      [
        'mutation ($x: String!) { defineDomainFromXml(input: { xml: $x }) { name } }',
        {
          x: `<domain type="test"><name>t-both</name><memory>1024</memory><os><type>hvm</type></os><devices>
          <disk type="file" device="disk"><source file="/default-pool/t-a.img"/><target dev="vda"/></disk>
          <disk type="file" device="disk"><source file="/other/t-b.img"/><target dev="vdb"/></disk></devices></domain>`,
        },
      ],
    ] as const) {
      expect((await admin(query, variables)).errors).toBeUndefined();
    }
  });
  afterEach(async () => {
    await gw.close();
  });

  it('needs Storage.Allocate on every pool it would delete from, and changes nothing without it', async () => {
    const refused = await as('tenant')(
      'mutation { undefineDomain(input: { domain: { name: "t-both" }, removeStorage: true }) { removedVolumes } }',
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Storage.Allocate',
      pool: 'other-pool',
    });
    const still = await as('admin')('{ domain(ref: { name: "t-both" }) { name disks { sourcePath } } }');
    expect(still.data).toEqual({
      domain: { name: 't-both', disks: [{ sourcePath: '/default-pool/t-a.img' }, { sourcePath: '/other/t-b.img' }] },
    });
    // The admin holds it everywhere: both volumes go.
    const done = await as('admin')(
      'mutation { undefineDomain(input: { domain: { name: "t-both" }, removeStorage: true }) { removedVolumes } }',
    );
    expect(done.data).toEqual({ undefineDomain: { removedVolumes: ['/default-pool/t-a.img', '/other/t-b.img'] } });
  });
});
