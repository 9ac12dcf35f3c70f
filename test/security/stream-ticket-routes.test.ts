import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// A stream ticket through every spelling of the route and of its parameters: the gate takes it on
// the one GraphQL endpoint only, and what runs is the document it was issued for, however the URL
// repeats or reorders its parameters.

const token = createApiToken();
const QUERY = '{ hosts { name } }';
const OTHER = '{ domain(ref: { name: "web" }) { name state } }';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: {
      auth: { tokens: [{ name: 'web', sha256: token.sha256 }], grants: [{ identity: 'web', role: 'operator' }] },
    },
  });
});
afterAll(async () => {
  await gw.close();
});

async function ticket(query = QUERY): Promise<string> {
  const data = await gw.ok<{ createStreamTicket: { ticket: string } }>(
    'mutation ($q: String!) { createStreamTicket(input: { query: $q }) { ticket } }',
    { q: query },
    { authorization: `Bearer ${token.secret}` },
  );
  return data.createStreamTicket.ticket;
}

/** GET `path` with the raw query string `search`, as a browser on the gateway's origin sends it. */
async function get(path: string, search: string) {
  const res = await gw.app.yoga.fetch(`http://localhost${path}?${search}`, {
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
  const text = await res.text();
  let body: { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

const q = (query: string) => `query=${encodeURIComponent(query)}`;

describe('a stream ticket on odd spellings of its route and parameters', () => {
  it('runs its document on /graphql', async () => {
    const r = await get('/graphql', `${q(QUERY)}&ticket=${await ticket()}`);
    expect(r.status).toBe(200);
    expect(r.body?.data).toEqual({ hosts: [{ name: 'fixture' }] });
  });

  it.each(['/graphql/', '//graphql', '/./graphql', '/GRAPHQL', '/x/graphql', '/graphql/graphql'])(
    '%s: the ticket opens nothing there (404, or the endpoint with every check, as for credentials)',
    async (path) => {
      const r = await get(path, `${q(QUERY)}&ticket=${await ticket()}`);
      const landed = new URL(path, 'http://localhost').pathname === '/graphql';
      if (landed) expect(r.body?.data).toEqual({ hosts: [{ name: 'fixture' }] });
      else expect(r.body?.data ?? null).toBeNull();
    },
  );

  it('a repeated or reordered query parameter runs the ticket’s document or nothing', async () => {
    for (const search of [
      `${q(OTHER)}&${q(QUERY)}&ticket=${await ticket()}`,
      `${q(QUERY)}&${q(OTHER)}&ticket=${await ticket()}`,
      `ticket=${await ticket()}&${q(OTHER)}`,
    ]) {
      const r = await get('/graphql', search);
      const ran = JSON.stringify(r.body?.data ?? null);
      expect(ran).not.toContain('"state"');
    }
  });

  it('a repeated ticket parameter is taken once: the second spelling of the same ticket is used up', async () => {
    const t = await ticket();
    const first = await get('/graphql', `${q(QUERY)}&ticket=${t}&ticket=${t}`);
    expect(first.body?.data).toEqual({ hosts: [{ name: 'fixture' }] });
    const again = await get('/graphql', `${q(QUERY)}&ticket=${t}`);
    expect(again.status).toBe(401);
    expect(again.body?.data ?? null).toBeNull();
  });
});
