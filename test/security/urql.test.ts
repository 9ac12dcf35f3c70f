import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { listenSecured, type SecuredGateway } from '../auth/auth-clients.ts';

const HOSTS = gql`
  query Hosts {
    hosts {
      name
    }
  }
`;
const TEST_DOMAIN = gql`
  query TestDomain {
    domain(ref: { name: "test" }) {
      name
      state
    }
  }
`;
const SUSPEND = gql`
  mutation Suspend {
    suspendDomain(input: { domain: { name: "test" } }) {
      state
    }
  }
`;
const RESUME = 'mutation { resumeDomain(input: { domain: { name: "test" } }) { state } }';

interface Seen {
  method: string;
  status: number;
}

/** urql as an app sets it up: nothing changed but the URL (and, with identities, the Authorization header). */
function urqlClient(url: string, seen: Seen[], authorization?: string): Client {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    ...(authorization ? { fetchOptions: () => ({ headers: { authorization } }) } : {}),
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      seen.push({ method: init?.method ?? 'GET', status: res.status });
      return res;
    },
  });
}

describe.each([
  ['without identities (development mode)', false],
  ['with an API token', true],
])('urql with its defaults, %s', (_label, withToken) => {
  const token = createApiToken();
  const authorization = withToken ? `Bearer ${token.secret}` : undefined;
  let gw: SecuredGateway;
  beforeAll(async () => {
    gw = await listenSecured(
      { default: 'test:///default' },
      withToken
        ? {
            auth: {
              tokens: [{ name: 'web', sha256: token.sha256 }],
              grants: [{ identity: 'web', role: 'operator', hosts: ['*'] }],
            },
          }
        : {},
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('sends queries as GET (preferGetMethod) and gets their data', async () => {
    const seen: Seen[] = [];
    const client = urqlClient(gw.url, seen, authorization);
    const hosts = await client.query(HOSTS, {}).toPromise();
    expect(hosts.error).toBeUndefined();
    expect(hosts.data).toEqual({ hosts: [{ __typename: 'Host', name: 'default' }] });
    const domain = await client.query(TEST_DOMAIN, {}).toPromise();
    expect(domain.error).toBeUndefined();
    expect(domain.data?.domain).toMatchObject({ name: 'test', state: 'RUNNING' });
    expect(seen).toEqual([
      { method: 'GET', status: 200 },
      { method: 'GET', status: 200 },
    ]);
  });

  it('sends mutations as POST, and they run', async () => {
    const seen: Seen[] = [];
    const client = urqlClient(gw.url, seen, authorization);
    const suspended = await client.mutation(SUSPEND, {}).toPromise();
    expect(suspended.error).toBeUndefined();
    expect(suspended.data?.suspendDomain).toMatchObject({ state: 'PAUSED' });
    expect(seen).toEqual([{ method: 'POST', status: 200 }]);
    const resumed = await client.mutation(RESUME, {}).toPromise();
    expect(resumed.data?.resumeDomain).toMatchObject({ state: 'RUNNING' });
  });

  it('without the Authorization header, the GET is refused 401 with its code when identities are configured', async () => {
    const seen: Seen[] = [];
    const result = await urqlClient(gw.url, seen).query(HOSTS, {}).toPromise();
    if (!withToken) {
      // The development mode: every caller is the anonymous admin.
      expect(result.data).toEqual({ hosts: [{ __typename: 'Host', name: 'default' }] });
      return;
    }
    expect(seen).toEqual([{ method: 'GET', status: 401 }]);
    expect(result.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
