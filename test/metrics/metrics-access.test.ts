import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiToken, listenSecured, type SecuredGateway, wsConnect } from '../auth/auth-clients.ts';
import { Scrape, scrape } from '../support/prometheus.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

const admin = apiToken('ops');
const viewer = apiToken('watcher');
const auth = {
  tokens: [admin.entry, viewer.entry],
  grants: [
    { identity: 'ops', role: 'admin' },
    { identity: 'watcher', role: 'viewer' },
  ],
};

/** GET over a real socket with a chosen Host header (fetch will not send one). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('/metrics on the GraphQL port, with identities', () => {
  let gw: SecuredGateway;
  let metricsUrl: string;
  beforeAll(async () => {
    gw = await listenSecured({ lab: fixtureUri }, { auth });
    metricsUrl = gw.url.replace(/\/graphql$/, '/metrics');
  });
  afterAll(() => gw?.close());

  it('refuses a request without credentials (401) and a viewer (403), and serves an admin', async () => {
    expect((await get(metricsUrl)).status).toBe(401);
    const refused = await get(metricsUrl, { authorization: viewer.bearer });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('FORBIDDEN');
    const served = await get(metricsUrl, { authorization: admin.bearer });
    expect(served.status).toBe(200);
    expect(new Scrape(served.body).value('libvirt_up', { host: 'lab' })).toBe(1);
  });

  it('counts sockets, subscriptions and the events they receive and deliver', async () => {
    const read = () => scrape(fetch, metricsUrl, { authorization: admin.bearer });
    const before = await read();
    expect(before.value('virtql_websockets_open')).toBe(0);
    const { client, connected } = wsConnect(gw.wsUrl, admin.bearer);
    const received = deferred<unknown>();
    const stop = client.subscribe(
      { query: 'subscription { domainEvents(host: "lab") { type domainName } }' },
      { next: (event) => received.resolve(event), error: received.reject, complete: () => undefined },
    );
    await connected;
    await gw.app.events.settled();
    let during = await read();
    while (during.value('virtql_subscriptions_open') !== 1) {
      await gw.app.events.settled();
      during = await read();
    }
    expect(during.value('virtql_websockets_open')).toBe(1);
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin.bearer },
      body: JSON.stringify({
        query: 'mutation Pause { suspendDomain(input: { host: "lab", domain: { name: "web" } }) { __typename } }',
      }),
    });
    expect(res.status).toBe(200);
    expect(await received.promise).toMatchObject({ data: { domainEvents: { type: 'SUSPENDED', domainName: 'web' } } });
    const after = await read();
    expect(after.value('virtql_events_received_total')).toBeGreaterThan(
      before.value('virtql_events_received_total') ?? 0,
    );
    expect(after.value('virtql_events_delivered_total')).toBeGreaterThan(
      before.value('virtql_events_delivered_total') ?? 0,
    );
    expect(
      after.value('virtql_graphql_operations_total', {
        operation_name: 'Pause',
        operation_type: 'mutation',
        code: 'OK',
      }),
    ).toBe(1);
    stop();
    await client.dispose();
  });
});

describe('/metrics on its own address', () => {
  let gw: SecuredGateway;
  beforeAll(async () => {
    gw = await listenSecured({ lab: fixtureUri }, { auth, metrics: { listen: '127.0.0.1:0' } });
  });
  afterAll(() => gw?.close());

  it('is served there without credentials, and no longer on the GraphQL port', async () => {
    const url = gw.app.metrics.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const s = await scrape(fetch, url);
    expect(s.value('libvirt_up', { host: 'lab' })).toBe(1);
    expect((await get(gw.url.replace(/\/graphql$/, '/metrics'), { authorization: admin.bearer })).status).toBe(404);
  });
});

describe('/metrics without identities (development)', () => {
  let gw: SecuredGateway;
  beforeAll(async () => {
    gw = await listenSecured({ lab: fixtureUri }, {});
  });
  afterAll(() => gw?.close());

  it('answers loopback callers naming a loopback host, and no one else', async () => {
    const url = gw.url.replace(/\/graphql$/, '/metrics');
    expect((await get(url)).status).toBe(200);
    expect((await get(url, { host: 'rebound.example:4000' })).status).toBe(403);
  });
});
