import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ListeningGateway, listen, stopAll, subscribeSse } from '../events/event-clients.ts';
import { fixtureUri } from '../support/test-host.ts';

interface Op {
  id: string;
  kind: string;
  status: string;
  errorMessage: string | null;
  cloneProgress: { step: string; disksDone: number; disksTotal: number } | null;
  clone: { name: string; uuid: string; volumes: string[]; domain: { name: string; state: string } | null } | null;
}
const OP =
  'id kind status errorMessage cloneProgress { step disksDone disksTotal } clone { name uuid volumes domain { name state } }';

describe('cloneDomain as a tracked operation (test driver)', () => {
  let gw: ListeningGateway;

  async function query<D = Record<string, unknown>>(q: string, variables?: Record<string, unknown>) {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q, variables }),
    });
    return (await res.json()) as {
      data?: D;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    };
  }

  async function ok<D = Record<string, unknown>>(q: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await query<D>(q, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  /** Starts a clone and follows it to its end; returns every state seen. */
  async function cloneToEnd(args: string): Promise<Op[]> {
    const { cloneDomain } = await ok<{ cloneDomain: Op }>(`mutation { cloneDomain(input: { ${args} }) { ${OP} } }`);
    expect(cloneDomain).toMatchObject({ kind: 'CLONE', status: 'RUNNING' });
    const sub = subscribeSse<{ operationUpdated: Op }>(
      gw.url,
      `subscription ($id: ID!) { operationUpdated(id: $id) { ${OP} } }`,
      { id: cloneDomain.id },
    );
    await sub.results.ended;
    return sub.results.seen.map((r) => r.data?.operationUpdated as Op);
  }

  const names = async () =>
    (await ok<{ host: { domains: Array<{ name: string }> } }>('{ host { domains { name } } }')).host.domains
      .map((d) => d.name)
      .sort();
  const volumes = async () =>
    (
      await ok<{ storagePool: { volumes: Array<{ name: string }> } }>(
        '{ storagePool(name: "default-pool") { volumes { name } } }',
      )
    ).storagePool.volumes
      .map((v) => v.name)
      .sort();

  beforeEach(async () => {
    gw = await listen({ fixture: fixtureUri });
  });
  afterEach(async () => {
    stopAll();
    await gw.close();
  });

  it('copies the volume-backed disk, defines the clone with a new UUID and MAC, and reports progress', async () => {
    await ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    const source = await ok<{ domain: { uuid: string; interfaces: Array<{ mac: string }> } }>(
      '{ domain(ref: { name: "web" }) { uuid interfaces { mac } } }',
    );
    const seen = await cloneToEnd('domain: { name: "web" }, name: "web2"');
    const last = seen.at(-1) as Op;
    expect(last.status).toBe('COMPLETED');
    expect(last.cloneProgress).toEqual({ step: 'DONE', disksDone: 1, disksTotal: 1 });
    expect(last.clone).toMatchObject({
      name: 'web2',
      volumes: ['/default-pool/web2-vda.img'],
      domain: { name: 'web2', state: 'SHUTOFF' },
    });
    expect(last.clone?.uuid).not.toBe(source.domain.uuid);
    const clone = await ok<{
      domain: { disks: Array<{ sourcePath: string }>; interfaces: Array<{ mac: string; sourceName: string }> };
    }>('{ domain(ref: { name: "web2" }) { disks { sourcePath } interfaces { mac sourceName } } }');
    expect(clone.domain.disks).toEqual([{ sourcePath: '/default-pool/web2-vda.img' }]);
    expect(clone.domain.interfaces[0]?.sourceName).toBe('lan');
    expect(clone.domain.interfaces[0]?.mac).not.toBe(source.domain.interfaces[0]?.mac);
    expect(await volumes()).toEqual(['web.img', 'web2-vda.img']);
  });

  it('refuses a running source, a taken name and a bad name before starting, and changes nothing', async () => {
    const code = async (args: string) =>
      (await query(`mutation { cloneDomain(input: { ${args} }) { id } }`)).errors?.[0]?.extensions as {
        code: string;
        field?: string;
      };
    expect((await code('domain: { name: "web" }, name: "web2"')).code).toBe('INVALID_STATE');
    await ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    expect(await code('domain: { name: "web" }, name: "db"')).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect(await code('domain: { name: "web" }, name: "a b"')).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect(await names()).toEqual(['db', 'web']);
    expect(await volumes()).toEqual(['web.img']);
  });

  it('undoes what it did when a step fails: the disk already copied is deleted and no domain is left', async () => {
    // Two disks; the second's copy cannot fit in the pool (the test driver counts allocations), so it fails after the first.
    const pool = await ok<{ storagePool: { availableBytes: string }; volume: { capacityBytes: string } }>(
      '{ storagePool(name: "default-pool") { availableBytes } volume(ref: { path: "/default-pool/web.img" }) { capacityBytes } }',
    );
    // Room for a copy of web.img (the test driver allocates a copy in full), not for a copy of big.img.
    const big = BigInt(pool.storagePool.availableBytes) - BigInt(pool.volume.capacityBytes) - (1n << 20n);
    await ok('mutation ($xml: String!) { createVolume(input: { pool: "default-pool", xml: $xml }) { name } }', {
      xml: `<volume><name>big.img</name><capacity>${big}</capacity><allocation>${big}</allocation></volume>`,
    });
    await ok('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', {
      xml: `<domain type='test'><name>pair</name><memory>1024</memory><os><type>hvm</type></os><devices>
        <disk type='file' device='disk'><source file='/default-pool/web.img'/><target dev='vda'/></disk>
        <disk type='file' device='disk'><source file='/default-pool/big.img'/><target dev='vdb'/></disk>
      </devices></domain>`,
    });
    const seen = await cloneToEnd('domain: { name: "pair" }, name: "pair2"');
    const last = seen.at(-1) as Op;
    expect(last.status).toBe('FAILED');
    expect(last.errorMessage).toMatch(/space/i);
    expect(last.cloneProgress).toEqual({ step: 'UNDOING', disksDone: 1, disksTotal: 2 });
    expect(await volumes()).toEqual(['big.img', 'web.img']);
    expect(await names()).toEqual(['db', 'pair', 'web']);
  });
});
