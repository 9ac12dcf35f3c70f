import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// orderBy on domainConnection (issue 23 item 2): 12 test-driver domains with memory, vCPUs and
// states of their own, walked 5 at a time; the oracle is libvirt's own info for each domain.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri });
  const c = await gw.registry.connection('fixture');
  for (let i = 0; i < 10; i++) {
    const name = `ord-${String.fromCharCode(106 - i)}`; // names in the opposite order of their memory
    const d = await c.defineDomain(
      buildDomainXml({ type: 'test', name, memoryKiB: 65536n * BigInt(1 + (i % 4)), vcpus: 1 + (i % 3) }),
    );
    if (i % 2 === 0) await d.start();
    if (i % 4 === 0) await d.suspend();
  }
});
afterAll(async () => {
  await gw.close();
});

interface Page {
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
  nodes: Array<{ name: string; uuid: string }>;
}

const PAGE = `query ($after: String, $orderBy: DomainOrder) {
  host { domainConnection(first: 5, after: $after, orderBy: $orderBy) { pageInfo { endCursor hasNextPage } nodes { name uuid } } } }`;

async function walk(orderBy: Record<string, string>): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { host: { domainConnection: Page } } = await gw.ok(PAGE, { after, orderBy });
    const page = data.host.domainConnection;
    names.push(...page.nodes.map((n) => n.name));
    if (!page.pageInfo.hasNextPage) return names;
    after = page.pageInfo.endCursor;
  }
}

/** Every domain with libvirt's own figures, in the order asked (ties by name, then UUID). */
async function libvirtOrder(value: (i: { state: number; memory: number; vcpus: number }) => number, desc: boolean) {
  const c = await gw.registry.connection('fixture');
  const rows = await Promise.all(
    (await c.domains()).map(async (d) => {
      const info = await d.info();
      const { state } = await d.state();
      const states = ['NOSTATE', 'RUNNING', 'BLOCKED', 'PAUSED', 'SHUTDOWN', 'SHUTOFF', 'CRASHED', 'PMSUSPENDED'];
      const key = value({ state: states.indexOf(state), memory: Number(info.memoryKiB), vcpus: info.vcpus });
      return { key: [key, d.name, d.uuid] as const, name: d.name };
    }),
  );
  const cmp = (a: readonly (string | number)[], b: readonly (string | number)[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as never) < (b[i] as never) ? -1 : 1;
    return 0;
  };
  return rows.sort((a, b) => (desc ? cmp(b.key, a.key) : cmp(a.key, b.key))).map((r) => r.name);
}

describe('domainConnection(orderBy:)', () => {
  it.each([
    ['MEMORY', 'DESC', (i: { memory: number }) => i.memory],
    ['MEMORY', 'ASC', (i: { memory: number }) => i.memory],
    ['VCPUS', 'DESC', (i: { vcpus: number }) => i.vcpus],
    ['STATE', 'ASC', (i: { state: number }) => i.state],
  ] as const)('pages by %s %s in libvirt’s order, every domain once', async (field, direction, value) => {
    const walked = await walk({ field, direction });
    expect(walked).toEqual(await libvirtOrder(value as never, direction === 'DESC'));
    expect(new Set(walked).size).toBe(walked.length);
  });

  it('NAME DESC is the name order reversed', async () => {
    const asc = await walk({ field: 'NAME' });
    expect(await walk({ field: 'NAME', direction: 'DESC' })).toEqual([...asc].reverse());
  });

  it('refuses a cursor of another order as INVALID_INPUT naming after', async () => {
    const data: { host: { domainConnection: Page } } = await gw.ok(PAGE, { orderBy: { field: 'MEMORY' } });
    const cursor = data.host.domainConnection.pageInfo.endCursor;
    const res = await gw.query(PAGE, { after: cursor, orderBy: { field: 'VCPUS' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'after' });
    const plain = await gw.query(PAGE, { after: cursor });
    expect(plain.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'after' });
  });
});
