import { buildBenchGateway } from './bench-gateway.ts';
import { count } from './format.ts';
import { writeInventoryNode } from './inventory-node.ts';
import { percentile } from './percentile.ts';

const DOMAINS = 1_000;
const REPEATS = 7;
const EXTRA = 20;

/** `count` aliases of `field` on every domain: the same resolver run `count` times per domain. */
const query = (field: string, times: number) =>
  `{ host { domains { ${Array.from({ length: times }, (_, i) => `f${i}: ${field}`).join(' ')} } } }`;

export interface FieldCostResult {
  rows: Array<{ label: string; field: string; oneMs: number; manyMs: number }>;
  errors: string[];
}

/**
 * What one more field costs the gateway on a 1,000-domain list (issue 21, "cheap fields"): the
 * same query with 1 and with 21 aliases of a field, the difference spread over 20,000 fields.
 * `name` is read from the object in hand; `vcpus` from the runtime snapshot the list loads ahead;
 * `maxVcpus` from the definition it loads ahead. None of them should cost a promise.
 */
export async function measureFieldCost(): Promise<FieldCostResult> {
  const node = await writeInventoryNode(DOMAINS);
  const gateway = await buildBenchGateway({ bench: node.uri });
  const result: FieldCostResult = { rows: [], errors: [] };
  const timed = async (source: string) => {
    const start = performance.now();
    const body = await gateway.query(source);
    const ms = performance.now() - start;
    for (const e of body.errors ?? []) if (result.errors.length < 3) result.errors.push(e.message);
    return ms;
  };
  try {
    for (const [label, field] of [
      ['from the object in hand', 'name'],
      ['from the runtime snapshot', 'vcpus'],
      ['from the definition', 'maxVcpus'],
    ] as const) {
      const one = query(field, 1);
      const many = query(field, 1 + EXTRA);
      await timed(one);
      await timed(many);
      const ones: number[] = [];
      const manys: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        ones.push(await timed(one));
        manys.push(await timed(many));
      }
      result.rows.push({ label, field, oneMs: percentile(ones, 50), manyMs: percentile(manys, 50) });
    }
  } finally {
    await gateway.app.stop();
    await node.remove();
  }
  return result;
}

export function reportFieldCost(r: FieldCostResult): string[] {
  return [
    `Field cost: ${count(DOMAINS)} test-driver domains, 1 then ${1 + EXTRA} aliases of one field; median of ${REPEATS}, the difference per field`,
    ...r.rows.map((row) => {
      const perField = ((row.manyMs - row.oneMs) * 1000) / (EXTRA * DOMAINS);
      return `   ${`${row.field} (${row.label})`.padEnd(44)}${count(row.oneMs).padStart(6)} ms → ${count(row.manyMs).padStart(6)} ms   ${perField.toFixed(2)} µs a field`;
    }),
    ...(r.errors.length > 0 ? [`   GraphQL errors (first ${r.errors.length}): ${r.errors.join(' | ')}`] : []),
  ];
}
