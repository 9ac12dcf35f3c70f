import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListCostRule } from '../../src/limits/use-list-cost.ts';
import { schema } from '../../src/schema/index.ts';
import {
  DOMAIN_EVENTS,
  type DomainEventData,
  isDomainEvent,
  listening,
  stopAll,
  subscribeSse,
  subscribeWs,
  wsClient,
} from '../events/event-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// extensions.cost { requested, limit } on every response: requested is what the maxCost rule
// computes (1 per field, a list field's selection times assumedListSize, a connection's times its page).

const S = 10;
const LIMIT = 5_000;

let gw: TestGateway;
let url: string;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: { limits: { maxCost: LIMIT, assumedListSize: S } },
  });
  url = await gw.app.start();
});
afterAll(async () => {
  stopAll();
  await gw.close();
});

async function post(query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: unknown;
    errors?: Array<{ extensions?: Record<string, unknown> }>;
    extensions?: { cost?: unknown };
  };
}

describe('extensions.cost', () => {
  it('tells the documented cost of a query and the configured limit', async () => {
    // hosts: 1 + S × (name 1 + domains (1 + S × name 1)) = 1 + 10 × 12
    const flat = await post('{ hosts { name domains { name } } }');
    expect(flat.errors).toBeUndefined();
    expect(flat.extensions?.cost).toEqual({ requested: 1 + S * (1 + (1 + S * 1)), limit: LIMIT });
    // A connection counts its page: 1 + (edges 1 + 3 × (node 1 + name 1)) + totalCount 1
    const page = await post('{ host { domainConnection(first: 3) { edges { node { name } } totalCount } } }');
    expect(page.extensions?.cost).toEqual({ requested: 1 + (1 + (1 + 3 * 2) + 1), limit: LIMIT });
    // Fragments cost as their selection, the same number twice (the second from yoga's caches).
    const fragment = 'query Q { hosts { ...H } } fragment H on Host { name }';
    expect((await post(fragment)).extensions?.cost).toEqual({ requested: 1 + S, limit: LIMIT });
    expect((await post(fragment)).extensions?.cost).toEqual({ requested: 1 + S, limit: LIMIT });
  });

  it('is kept per document and operation name, while each request’s variables are still checked', async () => {
    const named = async (operationName: string) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({
          query: 'query A { hosts { name } } query B { hosts { name domains { name } } }',
          operationName,
        }),
      });
      return (await res.json()) as { errors?: unknown[]; extensions?: { cost?: unknown } };
    };
    for (const round of [1, 2]) {
      expect((await named('A')).extensions?.cost, `round ${round}`).toEqual({ requested: 1 + S, limit: LIMIT });
      expect((await named('B')).extensions?.cost).toEqual({ requested: 1 + S * (1 + (1 + S)), limit: LIMIT });
      const unknown = await named('C');
      expect(unknown.errors).toHaveLength(1);
      expect(unknown.extensions?.cost).toBeUndefined();
    }
    // One document, the page size a variable: the cost counts the largest page, the variables are checked every time.
    const page = 'query ($n: Int) { host { domainConnection(first: $n) { totalCount } } }';
    const small = await post(page, { n: 1 });
    expect(small.errors).toBeUndefined();
    const bad = await post(page, { n: 'many' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(bad.extensions?.cost).toEqual(small.extensions?.cost);
    const nul = await post('query ($r: DomainRef!) { domain(ref: $r) { name } }', { r: { name: 'web\u0000x' } });
    expect(nul.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    const fine = await post('query ($r: DomainRef!) { domain(ref: $r) { name } }', { r: { name: 'web' } });
    expect(fine.errors).toBeUndefined();
  });

  it('is the number the maxCost rule refuses with, on the refusal itself', async () => {
    const query = '{ hosts { domains { host { domains { host { domains { name } } } } } } }';
    const refused = await post(query);
    expect(refused.data).toBeUndefined();
    const error = refused.errors?.find((e) => e.extensions?.limit === 'maxCost');
    expect(error?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: LIMIT });
    expect(refused.extensions?.cost).toEqual({ requested: error?.extensions?.cost, limit: LIMIT });
    // The rule run on its own agrees.
    const direct = validate(schema, parse(query), [createListCostRule({ maxCost: LIMIT, assumedListSize: S })]);
    expect(direct[0]?.extensions?.cost).toBe(error?.extensions?.cost);
  });

  it('is on other errors too: validation, bad variables, resolver errors', async () => {
    const invalid = await post('{ hosts { name nosuchfield } }');
    expect(invalid.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(invalid.extensions?.cost).toEqual({ requested: 1 + S, limit: LIMIT });
    const variable = await post('query($r: DomainRef!) { domain(ref: $r) { name } }', { r: 5 });
    expect(variable.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(variable.extensions?.cost).toEqual({ requested: 2, limit: LIMIT });
    const missing = await post('{ domain(ref: { name: "ghost" }) { name } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(missing.extensions?.cost).toEqual({ requested: 2, limit: LIMIT });
  });

  it('is on graphql-ws results and on a subscription’s first payload', async () => {
    const client = wsClient(url.replace(/^http/, 'ws'));
    try {
      const result = await new Promise<{ extensions?: unknown }>((resolve, reject) => {
        client.subscribe({ query: '{ hosts { name } }' }, { next: resolve, error: reject, complete: () => {} });
      });
      expect(result.extensions).toEqual({ cost: { requested: 1 + S, limit: LIMIT } });
      const sub = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { domain: { name: 'web' } });
      await listening(gw.app.events, 1);
      expect(
        (await post('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }')).errors,
      ).toBeUndefined();
      const first = (await sub.results.next(isDomainEvent('web', 'SUSPENDED'))) as { extensions?: { cost?: unknown } };
      // domainEvents 1 + host { name } 2 + five scalars + domain { name state active } 4
      expect(first.extensions).toEqual({ cost: { requested: 1 + 2 + 5 + 4, limit: LIMIT } });
      expect(
        (await post('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }')).errors,
      ).toBeUndefined();
      const second = (await sub.results.next(isDomainEvent('web', 'RESUMED'))) as { extensions?: { cost?: unknown } };
      expect(second.extensions?.cost).toBeUndefined();
      sub.stop();
    } finally {
      await client.dispose();
    }
  });

  it('is on a mutation’s answer and on the first payload of a subscription over SSE', async () => {
    const sub = subscribeSse<DomainEventData>(url, DOMAIN_EVENTS, { domain: { name: 'web' } });
    await listening(gw.app.events, 1);
    const suspended = await post('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    expect(suspended.extensions?.cost).toEqual({ requested: 2, limit: LIMIT });
    const first = (await sub.results.next(isDomainEvent('web', 'SUSPENDED'))) as { extensions?: { cost?: unknown } };
    expect(first.extensions).toEqual({ cost: { requested: 12, limit: LIMIT } });
    expect(
      (await post('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }')).errors,
    ).toBeUndefined();
    const second = (await sub.results.next(isDomainEvent('web', 'RESUMED'))) as { extensions?: { cost?: unknown } };
    expect(second.extensions?.cost).toBeUndefined();
    sub.stop();
  });
});
