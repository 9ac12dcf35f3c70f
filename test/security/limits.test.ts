import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getIntrospectionQuery, Kind, OperationTypeNode, parse } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { buildXml, element, parseRoot } from '../../src/libvirt/xml/xml-codec.ts';
import { webSocketCap } from '../../src/limits/websocket-limits.ts';
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
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

type GraphQLError = NonNullable<GraphQLResponse['errors']>[number];

/** A gateway listening on a free port, with its URLs. */
interface Listening {
  gw: TestGateway;
  url: string;
  wsUrl: string;
  health: string;
}

async function listenWith(hosts: Record<string, string>, config: Record<string, unknown> = {}): Promise<Listening> {
  const gw = await startGateway(hosts, undefined, { config });
  const url = await gw.app.start();
  return { gw, url, wsUrl: url.replace(/^http/, 'ws'), health: url.replace(/\/graphql$/, '/health') };
}

/**
 * POSTs a query on a connection of its own. The gateway runs in this process: when a heavy query
 * stalls the loop, the client's and the server's keep-alive timers fire late together, and a
 * pooled socket the server is closing as idle just then fails with ECONNRESET, saying nothing
 * about the gateway (seen in CI on the 1,000-domain host).
 */
function post(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; headers: Headers; body: GraphQLResponse }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            if (typeof value === 'string') headers.set(name, value);
          resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(text) as GraphQLResponse });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
}

/**
 * GET /health on a connection of its own: a pooled keep-alive socket the server is closing as
 * idle just then would fail the request with ECONNRESET and say nothing about the gateway.
 */
function health(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/**
 * Runs the refused attempt while /health is asked on the real port; the refusal must come in
 * well under a second and /health must answer during and after it.
 */
/**
 * The attempt's answer, checking the gateway kept serving /health while it was refused and after.
 * No wall-clock bound: under a loaded CI machine sending 30 MB alone can take seconds (a timed
 * assertion here failed CI once); a refusal that hung would still fail on the test's timeout.
 */
async function refusedWhileServing<T>(server: Listening, attempt: () => Promise<T>): Promise<T> {
  const [result, during] = await Promise.all([attempt(), health(server.health)]);
  expect(during).toBe(200);
  expect(await health(server.health)).toBe(200);
  return result;
}

function limitError(errors: GraphQLError[] | undefined, limit: string): GraphQLError | undefined {
  return errors?.find((e) => e.extensions?.code === 'LIMIT_EXCEEDED' && e.extensions.limit === limit);
}

/** `host { domains { name host { domains { … } } } }` with `levels` nested domain lists. */
function cyclicQuery(host: string, levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels; i += 1) inner = `domains { name host { ${inner} } }`;
  return `{ host(name: "${host}") { ${inner} } }`;
}

/** A test-driver node file holding `count` domains (d0000 …). */
function nodeWithDomains(count: number): string {
  const domains = Array.from({ length: count }, (_, i) =>
    parseRoot(
      buildDomainXml({ type: 'test', name: `d${String(i).padStart(4, '0')}`, memoryKiB: 65536n, vcpus: 1 }),
      'domain',
    ),
  );
  return buildXml(element('node', {}, domains));
}

/** A graphql-transport-ws socket, acknowledged; `closed` settles with the close code. */
async function rawGraphQLWs(wsUrl: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  const acked = deferred<void>();
  socket.on('message', (data) => {
    if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') acked.resolve();
  });
  socket.once('close', (code) => acked.reject(new Error(`closed ${code} before the ack`)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  await acked.promise;
  return { socket, closed };
}

/** Opens a WebSocket handshake and reports how it ended: open, or the HTTP status and body of a refusal. */
function handshake(wsUrl: string): Promise<{ socket: WebSocket } | { status: number; body: GraphQLResponse }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as GraphQLResponse }));
    });
    socket.once('error', reject);
  });
}

let dir: string;
let big: Listening;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-limits-'));
  const node = join(dir, 'node.xml');
  await writeFile(node, nodeWithDomains(1000));
  big = await listenWith({ fixture: fixtureUri, big: `test://${node}` });
});

afterAll(async () => {
  await big?.gw.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => stopAll());

describe('query limits with the defaults', () => {
  it('refuses the 9-level cyclic host/domains query on a host of 1,000 domains before executing it', async () => {
    const all = await post(big.url, '{ host(name: "big") { domains { name } } }');
    expect(all.body.errors).toBeUndefined();
    expect((all.body.data as { host: { domains: unknown[] } }).host.domains).toHaveLength(1000);

    const { body } = await refusedWhileServing(big, () => post(big.url, cyclicQuery('big', 9)));
    expect(body.data).toBeUndefined();
    expect(limitError(body.errors, 'maxCost')?.extensions).toMatchObject({ max: 50_000_000 });
  });

  it('refuses a query two lists around a cycle deeper than the inventory', async () => {
    const { body } = await post(big.url, cyclicQuery('big', 4));
    expect(limitError(body.errors, 'maxCost')).toBeDefined();
  });

  it('refuses a 50-level query', async () => {
    let inner = 'name';
    for (let i = 0; i < 25; i += 1) inner = `domain(ref: { name: "web" }) { host { ${inner} } }`;
    const { body } = await refusedWhileServing(big, () => post(big.url, `{ host { ${inner} } }`));
    expect(limitError(body.errors, 'maxDepth')?.extensions).toMatchObject({ max: 12 });
  });

  it('refuses 1,000 aliases', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: name`).join(' ');
    const { body } = await refusedWhileServing(big, () => post(big.url, `{ host { ${aliases} } }`));
    expect(limitError(body.errors, 'maxAliases')?.extensions).toMatchObject({ max: 30 });
  });

  it('refuses a query of more tokens than the limit while parsing it', async () => {
    const fields = Array.from({ length: 6000 }, () => 'name').join(' ');
    const { body } = await refusedWhileServing(big, () => post(big.url, `{ host { ${fields} } }`));
    expect(limitError(body.errors, 'maxTokens')?.extensions).toMatchObject({ max: 5000 });
  });

  it('refuses nodes with 100,000 IDs, as a variable and inline, before any lookup', async () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `id${i}`);
    const asVariable = await refusedWhileServing(big, () =>
      post(big.url, 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }),
    );
    expect(asVariable.body.data).toBeUndefined();
    expect(limitError(asVariable.body.errors, 'maxNodeIds')?.extensions).toMatchObject({
      max: 100,
      field: 'ids',
      count: 100_000,
    });

    const inline = await refusedWhileServing(big, () => post(big.url, `{ nodes(ids: ${JSON.stringify(ids)}) { id } }`));
    expect(inline.body.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');

    const justOver = await post(big.url, `{ nodes(ids: ${JSON.stringify(ids.slice(0, 101))}) { id } }`);
    expect(limitError(justOver.body.errors, 'maxNodeIds')).toBeDefined();
    const atTheLimit = await post(big.url, `{ nodes(ids: ${JSON.stringify(ids.slice(0, 100))}) { id } }`);
    expect(limitError(atTheLimit.body.errors, 'maxNodeIds')).toBeUndefined();
  });

  it('answers 413 LIMIT_EXCEEDED to a 10 MB body, announced or streamed', async () => {
    const padding = ' '.repeat(10 * 1024 * 1024);
    const body = `{"query":"{ hosts { name } }${padding}"}`;
    const announced = await refusedWhileServing(big, () =>
      fetch(big.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    expect(announced.status).toBe(413);
    expect(limitError(((await announced.json()) as GraphQLResponse).errors, 'bodyBytes')).toBeDefined();

    const bytes = new TextEncoder().encode(body);
    const streamed = await refusedWhileServing(big, () =>
      fetch(big.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 1024 * 1024)
              controller.enqueue(bytes.slice(at, at + 1024 * 1024));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(limitError(((await streamed.json()) as GraphQLResponse).errors, 'bodyBytes')).toBeDefined();
  });

  it('closes a graphql-ws socket sent a 30 MB message (1009) without running it', async () => {
    const { socket, closed } = await rawGraphQLWs(big.wsUrl);
    const mutation = `mutation { suspendDomain(input: { host: "fixture", domain: { name: "web" } }) { state } }${' '.repeat(30 * 1024 * 1024)}`;
    const message = Buffer.from(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: mutation } }));
    const code = await refusedWhileServing(big, async () => {
      socket.send(message);
      return closed;
    });
    expect(code).toBe(1009);
    const web = await post(big.url, '{ domain(host: "fixture", ref: { name: "web" }) { state } }');
    expect(web.body.data).toEqual({ domain: { state: 'RUNNING' } });
  });

  it('answers an over-limit operation over graphql-ws with the typed error, keeping the socket', async () => {
    const client = wsClient(big.wsUrl);
    try {
      const cyclic = subscribeWs(client, cyclicQuery('big', 9));
      expect(limitError((await cyclic.results.ended) as GraphQLError[], 'maxCost')).toBeDefined();
      const tokens = subscribeWs(client, `{ host { ${Array.from({ length: 6000 }, () => 'name').join(' ')} } }`);
      expect(limitError((await tokens.results.ended) as GraphQLError[], 'maxTokens')).toBeDefined();
      const fine = subscribeWs(client, '{ host { name } }');
      expect((await fine.results.next()).data).toEqual({ host: { name: 'fixture' } });
    } finally {
      await client.dispose();
    }
  });

  it('passes every query in README.md', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThan(0);
    for (const source of blocks) {
      const operations = parse(source).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operations.every((o) => o.operation === OperationTypeNode.QUERY)) {
        const { body } = await post(big.url, source);
        expect(body.errors, source).toBeUndefined();
        expect(body.data, source).toBeTruthy();
      } else {
        // Mutations and subscriptions are only validated: the limits apply before execution.
        const { body } = await post(big.url, `${source}\nquery __limits { __typename }`);
        for (const e of body.errors ?? []) expect(e.extensions?.code, source).not.toBe('LIMIT_EXCEEDED');
      }
    }
  });

  it("passes GraphiQL's introspection query and the README's inventory on 1,000 domains", async () => {
    const introspection = await post(
      big.url,
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
        oneOf: true,
      }),
    );
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data?.__schema).toBeTruthy();
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const inventory = readme.match(/```graphql\n(\{\n {2}hosts[\s\S]*?)```/)?.[1] as string;
    const { body } = await post(big.url, inventory.replace('domains(filter: { active: true })', 'domains'));
    expect(body.errors).toBeUndefined();
    const hosts = body.data?.hosts as Array<{ name: string; domains: unknown[] }>;
    expect(hosts.find((h) => h.name === 'big')?.domains).toHaveLength(1000);
  });
});

describe('WebSocket connection caps', () => {
  let capped: Listening;
  beforeAll(async () => {
    capped = await listenWith({ fixture: fixtureUri }, { limits: { webSockets: 3, webSocketsPerIdentity: 2 } });
  });
  afterAll(() => capped?.gw.close());

  it('closes an identity’s connection past its cap (4429) and refuses the upgrade past the total (503)', async () => {
    const first = await rawGraphQLWs(capped.wsUrl);
    const second = await rawGraphQLWs(capped.wsUrl);
    const third = await refusedWhileServing(capped, async () => {
      const opened = await handshake(capped.wsUrl);
      if (!('socket' in opened)) throw new Error(`upgrade refused: ${opened.status}`);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        opened.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
      );
      opened.socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      return closed;
    });
    expect(third.code).toBe(4429);
    expect(third.reason).toContain('LIMIT_EXCEEDED');

    // Two acknowledged sockets and one that never says connection_init fill the total of 3.
    const idle = await handshake(capped.wsUrl);
    expect('socket' in idle).toBe(true);
    const refused = await refusedWhileServing(capped, () => handshake(capped.wsUrl));
    expect(refused).toMatchObject({ status: 503, body: { errors: [{ extensions: { code: 'LIMIT_EXCEEDED' } }] } });

    // A closed socket frees its place.
    first.socket.close();
    await first.closed;
    const again = await rawGraphQLWs(capped.wsUrl);
    for (const s of [second.socket, again.socket, 'socket' in idle ? idle.socket : undefined]) s?.close();
  });

  it('keeps the total cap below the file-descriptor soft limit', () => {
    expect(webSocketCap(10_000, 1024)).toBe(768);
    expect(webSocketCap(100, 1024)).toBe(100);
    expect(webSocketCap(10_000, undefined)).toBe(10_000);
  });
});

describe('per-identity rate limit', () => {
  let limited: Listening;
  beforeAll(async () => {
    limited = await listenWith({ fixture: fixtureUri }, { limits: { rateLimit: { requests: 3, windowSeconds: 60 } } });
  });
  afterAll(() => limited?.gw.close());

  it('answers 429 RATE_LIMITED with retryAfterSeconds past the limit, over HTTP and graphql-ws', async () => {
    for (let i = 0; i < 3; i += 1) {
      const { status, body } = await post(limited.url, '{ host { name } }');
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    }
    const { status, headers, body } = await refusedWhileServing(limited, () => post(limited.url, '{ host { name } }'));
    expect(status).toBe(429);
    expect(body.data).toBeUndefined();
    const error = body.errors?.[0];
    expect(error?.extensions?.code).toBe('RATE_LIMITED');
    const retry = error?.extensions?.retryAfterSeconds as number;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(headers.get('retry-after')).toBe(String(retry));

    const client: Client = wsClient(limited.wsUrl);
    try {
      const sub = subscribeWs(client, DOMAIN_EVENTS);
      const refused = await sub.results.next();
      expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await client.dispose();
    }
  });
});

describe('per-identity subscription cap', () => {
  let capped: Listening;
  beforeAll(async () => {
    capped = await listenWith({ fixture: fixtureUri }, { limits: { subscriptionsPerIdentity: 2 } });
  });
  afterAll(() => capped?.gw.close());

  it('refuses a third open subscription, over graphql-ws and SSE, and frees the place when one stops', async () => {
    const client = wsClient(capped.wsUrl);
    try {
      const events = capped.gw.app.events;
      const overWs = subscribeWs(client, DOMAIN_EVENTS);
      const overSse = subscribeSse(capped.url, DOMAIN_EVENTS);
      await listening(events, 2);

      const third = await refusedWhileServing(capped, () => subscribeWs(client, DOMAIN_EVENTS).results.next());
      expect(limitError(third.errors, 'subscriptionsPerIdentity')?.extensions).toMatchObject({ max: 2 });
      const thirdSse = await post(capped.url, DOMAIN_EVENTS);
      expect(limitError(thirdSse.body.errors, 'subscriptionsPerIdentity')).toBeDefined();

      overSse.stop();
      await listening(events, 1);
      const replacement = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { domain: { name: 'web' } });
      await listening(events, 2);
      const suspended = await post(
        capped.url,
        'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }',
      );
      expect(suspended.body.errors).toBeUndefined();
      const event = await replacement.results.next(isDomainEvent('web', 'SUSPENDED'));
      expect(event.errors).toBeUndefined();
      overWs.stop();
      replacement.stop();
    } finally {
      await client.dispose();
    }
  });
});

describe('GraphiQL and introspection switches', () => {
  let off: TestGateway;
  let on: TestGateway;
  beforeAll(async () => {
    off = await startGateway({ fixture: fixtureUri }, undefined, { config: { graphiql: false, introspection: false } });
    on = await startGateway({ fixture: fixtureUri });
  });
  afterAll(async () => {
    await off?.close();
    await on?.close();
  });

  const page = async (gw: TestGateway) => {
    const res = await gw.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    return { status: res.status, html: await res.text() };
  };

  it('serves GraphiQL unless graphiql is false', async () => {
    expect((await page(on)).html).toContain('GraphiQL');
    const served = await page(off);
    expect(served.html).not.toContain('GraphiQL');
    expect(served.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses __schema and __type when introspection is false, and keeps __typename', async () => {
    expect((await on.query('{ __schema { queryType { name } } }')).data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Host") { name } }']) {
      const res = await off.query(query);
      expect(res.data).toBeUndefined();
      expect(res.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    }
    expect((await off.query('{ __typename host { name } }')).data).toEqual({
      __typename: 'Query',
      host: { name: 'fixture' },
    });
  });
});
