import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
