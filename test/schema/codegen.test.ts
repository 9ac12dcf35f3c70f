import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientTypes, typecheck } from '../support/schema-gates.ts';

// A client project's view: graphql-codegen's client preset over the committed SDL and the
// operations in test/schema/operations, with the scalar mapping the README recommends, then tsc.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-codegen-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Code a client writes against the generated types: it only compiles if the mapping holds. */
const usage = `import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import type {
  DomainEventsDocument,
  DomainPageDocument,
  InventoryDocument,
  SetDomainMemoryDocument,
  StartDomainDocument,
} from './gql/graphql.js';

type Inventory = ResultOf<typeof InventoryDocument>;
type Page = ResultOf<typeof DomainPageDocument>;

export function memoryGiB(inventory: Inventory): number[] {
  return inventory.hosts.flatMap((h) => (h.domains ?? []).map((d) => Number(BigInt(d.memoryKiB ?? '0') / 1048576n)));
}

export const firstPage: VariablesOf<typeof DomainPageDocument> = {
  first: 50,
  filter: { nameGlob: 'web-*', state: ['RUNNING', 'PAUSED'], autostart: true },
};

export function cursors(page: Page): Array<string | null | undefined> {
  return [page.host?.domainConnection?.pageInfo.endCursor, page.host?.domainConnection?.edges?.[0]?.cursor];
}

export const start: VariablesOf<typeof StartDomainDocument> = { name: 'web' };
export const grow: VariablesOf<typeof SetDomainMemoryDocument> = { name: 'web', memoryKiB: (4n * 1048576n).toString() };
export const shrink: VariablesOf<typeof SetDomainMemoryDocument> = { name: 'web', memoryKiB: 524288 };
export type Event = ResultOf<typeof DomainEventsDocument>['domainEvents']['type'];
export const at = (e: ResultOf<typeof DomainEventsDocument>): Date => new Date(e.domainEvents.timestamp);
`;

describe('graphql-codegen client preset', () => {
  it('generates typed documents from schema/schema.graphql and test/schema/operations that tsc accepts', async () => {
    const out = join(dir, 'client');
    await generateClientTypes({
      schema: 'schema/schema.graphql',
      documents: 'test/schema/operations/*.graphql',
      outDir: out,
    });
    const types = await readFile(join(out, 'gql', 'graphql.ts'), 'utf8');
    // The mapping reached the operation types, rather than \`any\` or \`unknown\`.
    expect(types).toMatch(/cpuTimeNs: string \| null/);
    expect(types).toMatch(/timestamp: string/);
    expect(types).toMatch(/memoryKiB: Scalars\['BigInt'\]\['input'\]|memoryKiB: string \| number/);
    expect(types).not.toMatch(
      /export type \w+(Query|Mutation|Subscription|Fragment)(Variables)? = .*\b(any|unknown)\b/,
    );
    const result = await typecheck(out, { 'usage.ts': usage });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('the gate fails on a schema with a scalar the mapping does not cover', async () => {
    await expect(
      generateClientTypes({
        schema: 'test/schema/fixtures/unmapped-scalar.graphql',
        documents: 'test/schema/fixtures/unmapped-scalar-operation.graphql',
        outDir: join(dir, 'unmapped'),
      }),
    ).rejects.toThrow(/Bytes/);
  }, 60_000);

  it('tsc fails when client code misreads a mapped scalar', async () => {
    const out = join(dir, 'misread');
    await generateClientTypes({
      schema: 'schema/schema.graphql',
      documents: 'test/schema/operations/*.graphql',
      outDir: out,
    });
    const misread = `import type { ResultOf } from '@graphql-typed-document-node/core';
import type { InventoryDocument } from './gql/graphql.js';
export const kib: number | null | undefined = ({} as ResultOf<typeof InventoryDocument>).hosts[0]?.info?.memoryKiB;
`;
    const result = await typecheck(out, { 'usage.ts': misread });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/TS2322/);
  }, 120_000);
});
