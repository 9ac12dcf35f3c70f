import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { listenSecured, type SecuredGateway } from '../auth/auth-clients.ts';
import {
  type GraphQLResult,
  listening,
  ResultQueue,
  stopAll,
  subscribeSse,
  wsClient,
} from '../events/event-clients.ts';
import { problemsOf } from '../support/config-problems.ts';
import { repoRoot } from '../support/schema-gates.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// As graphql-codegen's client preset prints them into persisted-documents.json.
const HOSTS = 'query Hosts {\n  hosts {\n    name\n  }\n}';
const TEST_DOMAIN = 'query TestDomain {\n  domain(ref: {name: "test"}) {\n    name\n    state\n  }\n}';
const EVENTS = 'subscription Events {\n  domainEvents(types: [SUSPENDED]) {\n    type\n    domainName\n  }\n}';
const UNLISTED = '{ hosts { name uri } }';
const ISSUE = 'mutation Ticket($query: String!) {\n  createStreamTicket(input: {query: $query}) {\n    url\n  }\n}';

/** graphql-codegen's client-preset `persistedDocuments` output: `{ "<sha256>": "<document>" }`. */
const codegenOutput = JSON.stringify(
  Object.fromEntries([HOSTS, TEST_DOMAIN, EVENTS, ISSUE].map((d) => [sha256(d), d])),
);
const persisted = (document: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(document) } });

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-trusted-'));
  file = join(dir, 'persisted-documents.json');
  await writeFile(file, codegenOutput);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => stopAll());

async function post(gw: SecuredGateway, body: Record<string, unknown>): Promise<{ status: number } & GraphQLResult> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as GraphQLResult) };
}

async function get(gw: SecuredGateway, params: Record<string, string>): Promise<{ status: number } & GraphQLResult> {
  const res = await fetch(`${gw.url}?${new URLSearchParams(params)}`);
  return { status: res.status, ...((await res.json()) as GraphQLResult) };
}

/** A graphql-ws subscription naming its document by hash only (graphql-ws wants `query` a string: empty). */
function subscribeWsById(gw: SecuredGateway, document: string | undefined, query = '') {
  const results = new ResultQueue<Record<string, unknown>>();
  const client = wsClient(gw.wsUrl);
  const stop = client.subscribe(
    { query, ...(document ? { extensions: persisted(document) } : {}) },
    {
      next: (r) => results.push(r as GraphQLResult),
      error: (e) => results.end(e),
      complete: () => results.end(),
    },
  );
  return {
    results,
    stop: async () => {
      stop();
      await client.dispose();
    },
  };
}

async function suspendAndResumeTest(gw: SecuredGateway): Promise<void> {
  const domain = await (await gw.registry.connection()).domainByName('test');
  await domain.suspend();
  await domain.resume();
}

describe('persistedDocuments in the configuration', () => {
  it('refuses to start on a file it cannot read, bad JSON, a wrong hash or a document that is not GraphQL', async () => {
    const bad = join(dir, 'bad.json');
    const cases: Array<[string | null, RegExp]> = [
      [null, /^cannot read .*missing\.json: ENOENT$/],
      ['{ "a": ', /is not JSON/],
      ['["query { hosts { name } }"]', /expected an object of "<sha256>": "<document>"/],
      [JSON.stringify({ [sha256(HOSTS)]: TEST_DOMAIN }), /is not the SHA-256 of its document/],
      [JSON.stringify({ abc: HOSTS }), /is not a SHA-256/],
      [JSON.stringify({ [sha256('query {')]: 'query {' }), /not a GraphQL document/],
    ];
    for (const [text, reason] of cases) {
      if (text !== null) await writeFile(bad, text);
      const problems = await problemsOf(() =>
        resolveConfig({ persistedDocuments: { file: text === null ? 'missing.json' : 'bad.json' } }, { baseDir: dir }),
      );
      expect(problems).toEqual([{ path: 'persistedDocuments.file', reason: expect.stringMatching(reason) }]);
    }
  });

  it('accepts codegen output, keys spelled sha256:<hex> too, and enforces by default', async () => {
    const prefixed = join(dir, 'prefixed.json');
    await writeFile(prefixed, JSON.stringify({ [`sha256:${sha256(HOSTS)}`]: HOSTS }));
    const resolved = await resolveConfig({ persistedDocuments: { file: prefixed } });
    expect(resolved.security.persistedDocuments?.enforce).toBe(true);
    expect([...(resolved.security.persistedDocuments?.documents.keys() ?? [])]).toEqual([sha256(HOSTS)]);
  });
});

/** The SSE text of an open event stream up to the SUSPENDED event that suspending and resuming `test` sends. */
async function suspendedEventOn(gw: SecuredGateway, res: Response): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await listening(gw.app.events, 1);
  await suspendAndResumeTest(gw);
  let text = '';
  while (!text.includes('"SUSPENDED"')) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  await reader.cancel();
  return text;
}

describe('with persistedDocuments enforced, only listed documents run', () => {
  let gw: SecuredGateway;
  beforeAll(async () => {
    gw = await listenSecured({ default: 'test:///default' }, { persistedDocuments: { file, enforce: true } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('POST with extensions.persistedQuery (Apollo APQ shape) or documentId runs the listed document', async () => {
    expect(await post(gw, { extensions: persisted(HOSTS) })).toMatchObject({
      status: 200,
      data: { hosts: [{ name: 'default' }] },
    });
    expect(await post(gw, { documentId: `sha256:${sha256(TEST_DOMAIN)}` })).toMatchObject({
      status: 200,
      data: { domain: { name: 'test', state: 'RUNNING' } },
    });
  });

  it('GET with documentId or extensions runs it too', async () => {
    expect(await get(gw, { documentId: sha256(HOSTS) })).toMatchObject({ data: { hosts: [{ name: 'default' }] } });
    expect(await get(gw, { extensions: JSON.stringify(persisted(HOSTS)) })).toMatchObject({
      data: { hosts: [{ name: 'default' }] },
    });
  });

  it('refuses a free-form query over POST and GET, even one that is listed, with PERSISTED_QUERY_ONLY', async () => {
    for (const query of [UNLISTED, HOSTS]) {
      for (const res of [await post(gw, { query }), await get(gw, { query })]) {
        expect(res.status).toBe(400);
        expect(res.data).toBeUndefined();
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);
      }
    }
  });

  it('refuses an unknown hash with PERSISTED_QUERY_NOT_FOUND, and a query that is not the named document', async () => {
    const unknown = await post(gw, { extensions: persisted(UNLISTED) });
    expect(unknown.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const malformed = await get(gw, { documentId: 'sha256:XYZ' });
    expect(malformed.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const swapped = await post(gw, { query: UNLISTED, extensions: persisted(HOSTS) });
    expect(swapped.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_INPUT']);
  });

  it('SSE: a free-form subscription is refused; a listed one by hash receives events', async () => {
    const refused = subscribeSse(gw.url, EVENTS);
    await expect(refused.results.ended).resolves.toEqual(expect.objectContaining({ message: expect.any(String) }));
    expect(String(await refused.results.ended)).toMatch(/400.*PERSISTED_QUERY_ONLY/s);
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ extensions: persisted(EVENTS) }),
    });
    expect(res.status).toBe(200);
    await expect(suspendedEventOn(gw, res)).resolves.toContain(
      '"domainEvents":{"type":"SUSPENDED","domainName":"test"}',
    );
  });

  it("a stream ticket's URL names a trusted document by documentId, and the ticket binds it", async () => {
    const issued = await post(gw, { extensions: persisted(ISSUE), variables: { query: EVENTS } });
    const { url } = (issued.data as { createStreamTicket: { url: string } }).createStreamTicket;
    expect(new URL(url).searchParams.get('documentId')).toBe(`sha256:${sha256(EVENTS)}`);
    expect(new URL(url).searchParams.has('query')).toBe(false);
    const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    await expect(suspendedEventOn(gw, res)).resolves.toContain(
      '"domainEvents":{"type":"SUSPENDED","domainName":"test"}',
    );
    // Another trusted document under the same (used) ticket: refused.
    const other = await post(gw, { extensions: persisted(ISSUE), variables: { query: EVENTS } });
    const otherUrl = new URL((other.data as { createStreamTicket: { url: string } }).createStreamTicket.url);
    otherUrl.searchParams.set('documentId', sha256(HOSTS));
    const refused = await fetch(otherUrl);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as GraphQLResult).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('graphql-ws: the same rule in its subscribe path', async () => {
    const refused = subscribeWsById(gw, undefined, EVENTS);
    expect(await refused.results.ended).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_ONLY' }) }),
    ]);
    await refused.stop();
    const unknown = subscribeWsById(gw, UNLISTED);
    expect(await unknown.results.ended).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_NOT_FOUND' }) }),
    ]);
    await unknown.stop();
    const listed = subscribeWsById(gw, EVENTS);
    await listening(gw.app.events, 1);
    await suspendAndResumeTest(gw);
    expect((await listed.results.next()).data).toEqual({ domainEvents: { type: 'SUSPENDED', domainName: 'test' } });
    await listed.stop();
  });
});

describe('with persistedDocuments not enforced', () => {
  let gw: SecuredGateway;
  beforeAll(async () => {
    gw = await listenSecured({ default: 'test:///default' }, { persistedDocuments: { file, enforce: false } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('listed hashes and free-form queries both run; an unknown hash does not', async () => {
    expect(await post(gw, { extensions: persisted(HOSTS) })).toMatchObject({ data: { hosts: [{ name: 'default' }] } });
    expect(await post(gw, { query: UNLISTED })).toMatchObject({ data: { hosts: [{ name: 'default' }] } });
    expect(await get(gw, { query: UNLISTED })).toMatchObject({ data: { hosts: [{ name: 'default' }] } });
    const unknown = await post(gw, { extensions: persisted(UNLISTED) });
    expect(unknown.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('graphql-ws runs a free-form subscription', async () => {
    const free = subscribeWsById(gw, undefined, EVENTS);
    await listening(gw.app.events, 1);
    await suspendAndResumeTest(gw);
    expect((await free.results.next()).data).toEqual({ domainEvents: { type: 'SUSPENDED', domainName: 'test' } });
    await free.stop();
  });
});

describe("graphql-codegen's client preset output, as generated", () => {
  let gw: SecuredGateway;
  let list: Record<string, string>;
  beforeAll(async () => {
    const out = join(dir, 'codegen');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'hosts.graphql'), 'query Hosts { hosts { name } }\n');
    await generate(
      {
        cwd: repoRoot,
        schema: join(repoRoot, 'schema/schema.graphql'),
        documents: join(out, '*.graphql'),
        silent: true,
        errorsOnly: true,
        generates: {
          [`${join(out, 'gql')}/`]: {
            preset: 'client',
            presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' } },
          },
        },
      },
      true,
    );
    const generated = join(out, 'gql', 'persisted-documents.json');
    list = JSON.parse(await readFile(generated, 'utf8')) as Record<string, string>;
    gw = await listenSecured({ default: 'test:///default' }, { persistedDocuments: { file: generated } });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('is accepted as the list, and its hashes run', async () => {
    const [hash, document] = Object.entries(list)[0] ?? [];
    expect(document).toContain('hosts');
    expect(await post(gw, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).toMatchObject({
      data: { hosts: [{ name: 'default' }] },
    });
    expect((await post(gw, { query: document })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
  });
});
