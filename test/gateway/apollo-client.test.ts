import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Issue 23 through a real client: Apollo Client 4's normalized cache, fed by the gateway over
// yoga's fetch. A delete's deletedId is what the client evicts; partial success leaves the
// mutation that ran in the cache.

let gw: TestGateway;
let client: ApolloClient;
beforeEach(async () => {
  gw = await startGateway({ fixture: fixtureUri });
  client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({
      uri: 'http://localhost/graphql',
      fetch: async (url, init) => gw.app.yoga.fetch(String(url), init as RequestInit),
    }),
  });
});
afterEach(async () => {
  client.stop();
  await gw.close();
});

const DOMAINS = gql`
  query Domains {
    host {
      id
      domains {
        id
        name
        state
      }
    }
  }
`;

interface Domains {
  host: { id: string; domains: Array<{ id: string; name: string; state: string }> };
}

describe('Apollo Client against the gateway', () => {
  it('evicts an undefined domain from its cache by deletedId: the cached list no longer shows it', async () => {
    const first = await client.query<Domains>({ query: DOMAINS });
    const db = first.data?.host.domains.find((d) => d.name === 'db');
    expect(db).toBeDefined();

    await client.mutate<{ undefineDomain: { deletedId: string } }>({
      mutation: gql`
        mutation Undefine($name: String!) {
          undefineDomain(input: { domain: { name: $name } }) {
            deletedId
          }
        }
      `,
      variables: { name: 'db' },
      update(cache, { data }) {
        const deletedId = data?.undefineDomain.deletedId;
        if (deletedId) cache.evict({ id: cache.identify({ __typename: 'Domain', id: deletedId }) });
        cache.gc();
      },
    });

    // Read from the cache alone: no refetch, and the domain is gone from the list.
    const cached = client.readQuery<Domains>({ query: DOMAINS });
    expect(cached?.host.domains.map((d) => d.name)).toEqual(
      first.data?.host.domains.map((d) => d.name).filter((n) => n !== 'db'),
    );
    // And libvirt agrees.
    const c = await gw.registry.connection('fixture');
    expect((await c.domains()).map((d) => d.name)).not.toContain('db');
  });

  it('keeps the result of the mutation that ran when another fails (errorPolicy all), updating the cached domain', async () => {
    const first = await client.query<Domains>({ query: DOMAINS });
    expect(first.data?.host.domains.find((d) => d.name === 'web')?.state).toBe('RUNNING');
    const result = await client.mutate<{ ok: { domain: { id: string; state: string } } | null; bad: unknown }>({
      mutation: gql`
        mutation Two {
          ok: suspendDomain(input: { domain: { name: "web" } }) {
            domain {
              id
              state
            }
          }
          bad: suspendDomain(input: { domain: { name: "nowhere" } }) {
            state
          }
        }
      `,
      errorPolicy: 'all',
    });
    expect(result.data?.ok?.domain.state).toBe('PAUSED');
    expect(result.data?.bad).toBeNull();
    expect(result.error?.message).toContain('nowhere');
    const cached = client.readQuery<Domains>({ query: DOMAINS });
    expect(cached?.host.domains.find((d) => d.name === 'web')?.state).toBe('PAUSED');
  });
});
