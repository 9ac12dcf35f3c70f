import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

describe('volume clone, resize, wipe and pool deletion on the test driver', () => {
  let gw: TestGateway;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  async function error(query: string) {
    const res = await gw.query(query);
    expect(res.errors).toHaveLength(1);
    return res.errors?.[0]?.extensions as { code: string; field?: string };
  }

  const volumes = async (pool = 'default-pool') =>
    (
      await ok<{ storagePool: { volumes: Array<{ name: string; capacityBytes: string }> } }>(
        `{ storagePool(name: "${pool}") { volumes { name capacityBytes } } }`,
      )
    ).storagePool.volumes;

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('clones a volume into its pool, with the source’s capacity', async () => {
    const [web] = await volumes();
    const same = await ok<{
      cloneVolume: { name: string; path: string; capacityBytes: string; pool: { name: string } };
    }>(
      'mutation { cloneVolume(input: { ref: { path: "/default-pool/web.img" }, name: "web-copy.img" }) { name path capacityBytes pool { name } } }',
    );
    expect(same.cloneVolume).toEqual({
      name: 'web-copy.img',
      path: '/default-pool/web-copy.img',
      capacityBytes: web?.capacityBytes,
      pool: { name: 'default-pool' },
    });
    // Into another pool: the private libvirtd case (libvirt 9.0's test driver looks the source up in the target pool).
  });

  it('refuses bad clones with typed errors and creates nothing', async () => {
    const clone = (args: string) =>
      `mutation { cloneVolume(input: { ref: { path: "/default-pool/web.img" }, ${args} }) { name } }`;
    expect(await error(clone('name: "web.img"'))).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect(await error(clone('name: "../escape.img"'))).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect(await error(clone('name: "x.img", pool: "nope"'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await error(clone('name: "x.img", format: "qcow2;rm"'))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'format',
    });
    expect(
      await error(
        'mutation { cloneVolume(input: { ref: { path: "/default-pool/none.img" }, name: "x.img" }) { name } }',
      ),
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect((await volumes()).map((v) => v.name)).toEqual(['web.img']);
  });

  it('refuses a smaller capacity without shrink before asking libvirt; the test driver itself resizes and wipes nothing', async () => {
    const [web] = await volumes();
    const smaller = BigInt(web?.capacityBytes as string) / 2n;
    expect(
      await error(
        `mutation { resizeVolume(input: { ref: { path: "/default-pool/web.img" }, capacityBytes: "${smaller}" }) { name } }`,
      ),
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'capacityBytes' });
    expect(
      await error(
        'mutation { resizeVolume(input: { ref: { path: "/default-pool/web.img" }, capacityBytes: "0" }) { name } }',
      ),
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'capacityBytes' });
    const bigger = BigInt(web?.capacityBytes as string) * 2n;
    expect(
      (
        await error(
          `mutation { resizeVolume(input: { ref: { path: "/default-pool/web.img" }, capacityBytes: "${bigger}" }) { name } }`,
        )
      ).code,
    ).toBe('UNSUPPORTED');
    expect(
      (await error('mutation { wipeVolume(input: { ref: { path: "/default-pool/web.img" } }) { name } }')).code,
    ).toBe('UNSUPPORTED');
    expect(await volumes()).toEqual([web]);
  });

  it('deleteStoragePool needs the name repeated and an inactive pool', async () => {
    expect(
      await error('mutation { deleteStoragePool(input: { name: "default-pool", confirm: "default" }) { name } }'),
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'confirm' });
    expect(
      (await error('mutation { deleteStoragePool(input: { name: "default-pool", confirm: "default-pool" }) { name } }'))
        .code,
    ).toBe('INVALID_STATE');
    expect((await volumes()).map((v) => v.name)).toEqual(['web.img']);
  });
});
