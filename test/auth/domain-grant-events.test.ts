import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listening, stopAll, subscribeSse, subscribeWs } from '../events/event-clients.ts';
import { fixtureUri } from '../support/test-host.ts';
import { apiToken, listenSecured, postGraphQL, type SecuredGateway, wsConnect } from './auth-clients.ts';

// A team-scoped token subscribes to every domain event; only its own domain's events reach it,
// over graphql-ws and over SSE, while the admin's subscription sees both domains.

const admin = apiToken('admin');
const team = apiToken('team-a');
let gw: SecuredGateway;

beforeAll(async () => {
  gw = await listenSecured(
    { fixture: fixtureUri },
    {
      auth: {
        tokens: [admin.entry, team.entry],
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'team-a', role: 'operator', domains: ['web'] },
        ],
      },
    },
  );
});
afterEach(() => stopAll());
afterAll(async () => {
  await gw.close();
});

const EVENTS = 'subscription { domainEvents(types: [SUSPENDED, RESUMED]) { domainName type } }';
type Events = { domainEvents: { domainName: string; type: string } };

async function act(query: string): Promise<void> {
  const { body } = await postGraphQL(gw.url, query, { authorization: admin.bearer });
  expect(body.errors).toBeUndefined();
}

describe('events under a domain-glob grant', () => {
  it('graphql-ws and SSE deliver only the granted domain’s events; the admin sees every domain’s', async () => {
    const teamWs = wsConnect(gw.wsUrl, team.bearer);
    const adminWs = wsConnect(gw.wsUrl, admin.bearer);
    const subs = {
      teamWs: subscribeWs<Events>(teamWs.client, EVENTS),
      teamSse: subscribeSse<Events>(gw.url, EVENTS, undefined, { authorization: team.bearer }),
      adminWs: subscribeWs<Events>(adminWs.client, EVENTS),
    };
    await Promise.all([teamWs.connected, adminWs.connected]);
    await listening(gw.app.events, 3);

    await act('mutation { startDomain(input: { domain: { name: "db" } }) { state } }');
    await act('mutation { suspendDomain(input: { domain: { name: "db" } }) { state } }');
    await act('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "db" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');

    await subs.adminWs.results.untilSeen(4);
    expect(subs.adminWs.results.seen.map((r) => r.data?.domainEvents)).toEqual([
      { domainName: 'db', type: 'SUSPENDED' },
      { domainName: 'web', type: 'SUSPENDED' },
      { domainName: 'db', type: 'RESUMED' },
      { domainName: 'web', type: 'RESUMED' },
    ]);
    for (const sub of [subs.teamWs, subs.teamSse]) {
      await sub.results.untilSeen(2);
      // Events arrive in order, so db's events, which came before web's last one, were dropped.
      expect(sub.results.seen.map((r) => r.data?.domainEvents)).toEqual([
        { domainName: 'web', type: 'SUSPENDED' },
        { domainName: 'web', type: 'RESUMED' },
      ]);
    }
  });

  it('a domain outside the grant is NOT_FOUND over the port too, not FORBIDDEN', async () => {
    const { body } = await postGraphQL(gw.url, '{ domain(ref: { name: "db" }) { name } }', {
      authorization: team.bearer,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a resumed subscription replays only the granted domain’s missed events', async () => {
    const RESUMING = `subscription ($after: String) {
      domainEvents(host: "fixture", types: [SUSPENDED, RESUMED], after: $after) { domainName type cursor }
    }`;
    type Resumed = { domainEvents: { domainName: string; type: string; cursor: string } };
    const adminWs = wsConnect(gw.wsUrl, admin.bearer);
    const first = subscribeWs<Resumed>(adminWs.client, RESUMING);
    await adminWs.connected;
    await listening(gw.app.events, 1);
    await act('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    const cursor = (await first.results.next()).data?.domainEvents.cursor;
    first.stop();
    await listening(gw.app.events, 0);

    await act('mutation { suspendDomain(input: { domain: { name: "db" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "db" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');
    await gw.app.events.settled();

    const teamWs = wsConnect(gw.wsUrl, team.bearer);
    const resumed = subscribeWs<Resumed>(teamWs.client, RESUMING, { after: cursor });
    await resumed.results.untilSeen(1);
    await listening(gw.app.events, 1);
    await act('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    await resumed.results.untilSeen(2);
    expect(resumed.results.seen.map((r) => r.data?.domainEvents)).toMatchObject([
      { domainName: 'web', type: 'RESUMED' },
      { domainName: 'web', type: 'SUSPENDED' },
    ]);
    await act('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');
    await adminWs.client.dispose();
    await teamWs.client.dispose();
  });
});
