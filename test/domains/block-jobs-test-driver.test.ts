import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// The disk operations of issue 24 on libvirt's test driver: it has no block jobs, so a running
// domain's move fails as a typed operation that leaves nothing behind, and a stopped domain's
// move (a volume copy and a definition change) runs in full.

interface OperationView {
  status: string;
  errorCode: string | null;
  diskJobProgress: { phase: string } | null;
  diskJob: { path: string | null; deletedVolumes: string[] } | null;
}

describe('disk operations on the test driver', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function settled(id: string): Promise<OperationView> {
    for (;;) {
      const { operation } = await gw.ok<{ operation: OperationView }>(
        `{ operation(id: "${id}") { status errorCode diskJobProgress { phase } diskJob { path deletedVolumes } } }`,
      );
      if (operation.status !== 'RUNNING') return operation;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const volumes = async () =>
    (
      await gw.ok<{ host: { storagePool: { volumes: Array<{ name: string }> } } }>(
        '{ host { storagePool(name: "default-pool") { volumes { name } } } }',
      )
    ).host.storagePool.volumes
      .map((v) => v.name)
      .sort();

  const disk = async () =>
    (
      await gw.ok<{ domain: { disks: Array<{ sourcePath: string; format: string | null; backingChain: unknown[] }> } }>(
        '{ domain(ref: { name: "web" }) { disks { sourcePath format backingChain { path } } } }',
      )
    ).domain.disks[0];

  it('shows a plain image’s empty backing chain', async () => {
    expect(await disk()).toEqual({ sourcePath: '/default-pool/web.img', format: null, backingChain: [] });
  });

  it('a running domain’s move fails as UNSUPPORTED (no block jobs) and deletes the volume it made', async () => {
    const before = await volumes();
    const { moveDomainDisk } = await gw.ok<{ moveDomainDisk: { id: string } }>(
      'mutation { moveDomainDisk(input: { domain: { name: "web" }, disk: "vda", pool: "default-pool", name: "mv.img" }) { id } }',
    );
    const op = await settled(moveDomainDisk.id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'UNSUPPORTED', diskJob: null });
    expect(await volumes()).toEqual(before);
    expect((await disk())?.sourcePath).toBe('/default-pool/web.img');
  });

  it('commit and pull need a running domain with a backing chain', async () => {
    const commit = await gw.query(
      'mutation { commitDomainDisk(input: { domain: { name: "web" }, disk: "vda" }) { id } }',
    );
    expect(commit.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    const pull = await gw.query('mutation { pullDomainDisk(input: { domain: { name: "db" }, disk: "vda" }) { id } }');
    expect(pull.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('moves a stopped domain’s disk: a copy in the pool, the definition pointed at it, the old volume deleted', async () => {
    await gw.ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    const { moveDomainDisk } = await gw.ok<{ moveDomainDisk: { id: string } }>(
      'mutation { moveDomainDisk(input: { domain: { name: "web" }, disk: "vda", pool: "default-pool", format: QCOW2, deleteSource: true }) { id } }',
    );
    const op = await settled(moveDomainDisk.id);
    expect(op).toMatchObject({
      status: 'COMPLETED',
      diskJobProgress: { phase: 'DONE' },
      diskJob: { path: '/default-pool/web.qcow2', deletedVolumes: ['/default-pool/web.img'] },
    });
    expect(await volumes()).toEqual(['web.qcow2']);
    expect(await disk()).toEqual({ sourcePath: '/default-pool/web.qcow2', format: 'qcow2', backingChain: [] });
  });

  it('a stopped domain’s resize goes to the volume (which the test driver cannot resize: UNSUPPORTED)', async () => {
    const res = await gw.query(
      'mutation { resizeDomainDisk(input: { domain: { name: "web" }, disk: "vda", capacityBytes: "21474836480" }) { name } }',
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED');
    const smaller = await gw.query(
      'mutation { resizeDomainDisk(input: { domain: { name: "web" }, disk: "vda", capacityBytes: "1048576" }) { name } }',
    );
    expect(smaller.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });
});
