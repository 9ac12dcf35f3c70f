import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_ASSETS_PATH } from '../../src/graphiql/use-graphiql-assets.ts';
import { apiToken } from '../auth/auth-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const SUSPEND = 'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }';
const READ = '{ hosts { name } }';

/**
 * Paths a client may spell. yoga answers GraphQL on any URL ending in `/graphql` (or `/graphql/`);
 * the gate must either route a spelling to the one endpoint, checks and all, or answer 404.
 */
const SPELLINGS = [
  '/graphql',
  '/graphql?x=1',
  '/./graphql',
  '/graphiql/../graphql',
  '/graphql/',
  '//graphql',
  '///graphql',
  '/GRAPHQL',
  '/Graphql',
  '/graphql;x',
  '/%67raphql',
  '/graphql%2f',
  '/graphql%00',
  '/graphql/.',
  '/graphql/..',
  '/graphql/graphql',
  '/x/graphql',
  '/x?y=/graphql',
  '/health?/graphql',
  '/ready/graphql',
  '/metrics/graphql',
  `${GRAPHIQL_ASSETS_PATH}graphql`,
  '/console',
  '/metrics/',
  '//metrics',
];

/** Where a spelling lands once the URL is parsed as every WHATWG client and yoga parse it. */
const landing = (spelling: string) => new URL(spelling, 'http://localhost').pathname;
const isEndpoint = (spelling: string) => landing(spelling) === '/graphql';
/** Other routes (`/graphql/..` is `/`, GraphiQL's redirect): the gate's Host and Origin checks, never GraphQL. */
const OTHER_ROUTES = new Set(['/', '/health', '/ready', '/metrics']);
const isOtherRoute = (spelling: string) =>
  OTHER_ROUTES.has(landing(spelling)) || landing(spelling).startsWith(GRAPHIQL_ASSETS_PATH);

interface Attempt {
  method: 'GET' | 'POST';
  host: string;
  headers: Record<string, string>;
  body?: string;
}

const json = (query: string) => JSON.stringify({ query });
const post = (host: string, headers: Record<string, string>, query = SUSPEND): Attempt => ({
  method: 'POST',
  host,
  headers: { 'content-type': 'application/json', ...headers },
  body: json(query),
});
const withQuery = (spelling: string, query: string) =>
  `${spelling}${spelling.includes('?') ? '&' : '?'}query=${encodeURIComponent(query)}`;

/** Each check with an attempt that must fail it: which gateway, the refusal's status and code. */
const CHECKS: Array<{
  name: string;
  gateway: 'open' | 'tokens';
  attempt: Attempt;
  get?: boolean;
  status: number;
  code: string;
}> = [
  {
    name: 'a Host that is not loopback (DNS rebinding), without identities',
    gateway: 'open',
    attempt: post('rebound.example:4000', {}),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'an Origin of another site',
    gateway: 'open',
    attempt: post('localhost:4000', { origin: 'http://evil.example' }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'a text/plain POST without the CSRF header',
    gateway: 'open',
    attempt: { method: 'POST', host: 'localhost:4000', headers: { 'content-type': 'text/plain' }, body: json(SUSPEND) },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'no credentials, POST',
    gateway: 'tokens',
    attempt: post('localhost:4000', {}),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'no credentials, SSE',
    gateway: 'tokens',
    attempt: post('localhost:4000', { accept: 'text/event-stream' }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'no credentials, GET',
    gateway: 'tokens',
    attempt: { method: 'GET', host: 'localhost:4000', headers: { 'x-graphql-yoga-csrf': '1' } },
    get: true,
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a forged token',
    gateway: 'tokens',
    attempt: post('localhost:4000', { authorization: `Bearer vq_${'A'.repeat(43)}` }),
    status: 401,
    code: 'INVALID_TOKEN',
  },
];

let open: TestGateway;
let tokens: TestGateway;
let openPort: number;
let tokensPort: number;
const token = apiToken('ci');

beforeAll(async () => {
  open = await startGateway({ fixture: fixtureUri }, 'fixture');
  tokens = await startGateway({ fixture: fixtureUri }, 'fixture', {
    config: { auth: { tokens: [token.entry], grants: [{ identity: 'ci', role: 'admin' }] } },
  });
  openPort = Number(new URL(await open.app.start()).port);
  tokensPort = Number(new URL(await tokens.app.start()).port);
});

afterAll(async () => {
  await open?.close();
  await tokens?.close();
});

async function webState(g: TestGateway, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await g.query<{ domain: { state: string } }>('{ domain(ref: { name: "web" }) { state } }', {}, headers);
  return res.data?.domain.state;
}

interface Answer {
  status: number;
  body: string;
}

function inProcess(g: TestGateway, spelling: string, attempt: Attempt): Promise<Answer> {
  return Promise.resolve(
    g.app.yoga.fetch(`http://${attempt.host}${spelling}`, {
      method: attempt.method,
      // A copy: the fetch API writes content-length into the object it is given.
      headers: { ...attempt.headers },
      ...(attempt.body === undefined ? {} : { body: attempt.body }),
    }),
  ).then(async (res) => ({ status: res.status, body: await res.text() }));
}

/** One HTTP/1.1 request written byte for byte, so no client normalises the path on the way. */
async function overSocket(port: number, spelling: string, attempt: Attempt): Promise<Answer> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const body = attempt.body ?? '';
  const head = [
    `${attempt.method} ${spelling} HTTP/1.1`,
    `host: ${attempt.host}`,
    ...Object.entries(attempt.headers).map(([k, v]) => `${k}: ${v}`),
    ...(attempt.method === 'POST' ? [`content-length: ${Buffer.byteLength(body)}`] : []),
    'connection: close',
  ];
  // Not half-closed: Node drops a request whose client has ended its side before the answer.
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

const transports = [
  {
    name: 'in-process (yoga.fetch)',
    send: (g: TestGateway, _port: number, s: string, a: Attempt) => inProcess(g, s, a),
  },
  {
    name: 'over a socket (raw HTTP/1.1)',
    send: (_g: TestGateway, port: number, s: string, a: Attempt) => overSocket(port, s, a),
  },
];

describe.each(transports)('every spelling of a route, $name', ({ send }) => {
  const gateway = (which: 'open' | 'tokens') =>
    which === 'open' ? { g: open, port: openPort } : { g: tokens, port: tokensPort };

  it.each(CHECKS)('$name: refused on the endpoint, 404 on every other spelling', async (check) => {
    const { g, port } = gateway(check.gateway);
    const answers: string[] = [];
    for (const spelling of SPELLINGS) {
      const path = check.get ? withQuery(spelling, READ) : spelling;
      const { status, body } = await send(g, port, path, check.attempt);
      answers.push(`${spelling} ${status}`);
      expect(body, spelling).not.toContain('"data"');
      if (isOtherRoute(path)) {
        expect([check.status, 404, 302], `${spelling}: ${status} ${body.slice(0, 200)}`).toContain(status);
        continue;
      }
      const expected = isEndpoint(path) ? check.status : 404;
      expect(status, `${spelling}: ${body.slice(0, 200)}`).toBe(expected);
      if (expected !== 404) expect(JSON.parse(body).errors[0].extensions.code).toBe(check.code);
    }
    expect(answers.filter((a) => !a.endsWith(' 404')).length).toBeGreaterThanOrEqual(4);
    const auth: Record<string, string> = check.gateway === 'tokens' ? { authorization: `Bearer ${token.secret}` } : {};
    expect(await webState(g, auth)).toBe('RUNNING');
  });

  it('a caller that passes every check reaches GraphQL on the endpoint only', async () => {
    for (const [which, headers] of [
      ['open', {}],
      ['tokens', { authorization: `Bearer ${token.secret}` }],
    ] as const) {
      const { g, port } = gateway(which);
      for (const spelling of SPELLINGS) {
        const { status, body } = await send(g, port, spelling, post('localhost:4000', headers, READ));
        if (!isEndpoint(spelling)) {
          expect(body, spelling).not.toContain('"data"');
          if (!isOtherRoute(spelling)) expect(status, spelling).toBe(404);
          continue;
        }
        expect(status, spelling).toBe(200);
        expect(JSON.parse(body)).toEqual({
          extensions: { cost: expect.any(Object) },
          data: { hosts: [{ name: 'fixture' }] },
        });
      }
    }
  });
});

describe('the other routes pass the same gate', () => {
  it.each([
    ['/metrics', 'GET'],
    ['/ready', 'GET'],
    [`${GRAPHIQL_ASSETS_PATH}graphiql.css`, 'GET'],
    ['/graphql', 'GET'],
    ['/', 'GET'],
  ])('%s: a rebound Host and a foreign Origin are refused, without identities', async (path) => {
    for (const attempt of <Attempt[]>[
      { method: 'GET' as const, host: 'rebound.example:4000', headers: { accept: 'text/html' } },
      {
        method: 'GET' as const,
        host: 'localhost:4000',
        headers: { accept: 'text/html', origin: 'http://evil.example' },
      },
    ]) {
      expect((await inProcess(open, path, attempt)).status).toBe(403);
      expect((await overSocket(openPort, path, attempt)).status).toBe(403);
    }
    const fine = await overSocket(openPort, path, {
      method: 'GET',
      host: 'localhost:4000',
      headers: { accept: 'text/html' },
    });
    expect(fine.status).toBeLessThan(400);
  });

  it('/metrics needs credentials (401) with identities; the GraphiQL page and assets do not', async () => {
    const anonymous = { method: 'GET' as const, host: 'localhost:4000', headers: { accept: 'text/html' } };
    expect((await overSocket(tokensPort, '/metrics', anonymous)).status).toBe(401);
    expect((await overSocket(tokensPort, '/graphql', anonymous)).status).toBe(200);
    expect((await overSocket(tokensPort, `${GRAPHIQL_ASSETS_PATH}graphiql.css`, anonymous)).status).toBe(200);
  });

  it('a Host header that would move where the path starts is refused', async () => {
    const attempt = post('localhost/graphql#', {}, READ);
    expect((await overSocket(openPort, '/metrics', attempt)).status).toBe(400);
  });
});

/** An upgrade request written byte for byte; resolves with the status line's code. */
async function upgrade(port: number, spelling: string, headers: Record<string, string>): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head = [
    `GET ${spelling} HTTP/1.1`,
    'connection: Upgrade',
    'upgrade: websocket',
    'sec-websocket-version: 13',
    'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-protocol: graphql-transport-ws',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString())?.[1]);
}

describe('WebSocket upgrades on every spelling', () => {
  it.each([
    ['a rebound Host', { host: 'rebound.example:4000' }],
    ['a foreign Origin', { host: 'localhost:4000', origin: 'http://evil.example' }],
  ])('%s: 403 on /graphql, 404 elsewhere, never 101', async (_name, headers) => {
    for (const spelling of [...SPELLINGS, '/console', '/./console']) {
      const status = await upgrade(openPort, spelling, headers);
      const routed = ['/graphql', '/console'].includes(new URL(spelling, 'http://virtql').pathname);
      expect(status, spelling).toBe(routed ? 403 : 404);
    }
    expect(await upgrade(openPort, '/graphql', { host: 'localhost:4000' })).toBe(101);
  });
});
