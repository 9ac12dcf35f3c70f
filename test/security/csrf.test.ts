import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const SUSPEND = 'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }';
const GRAPHQL = 'http://localhost/graphql';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function gateway(cors?: { origins: string[] }): Promise<TestGateway> {
  gw = await startGateway({ fixture: fixtureUri }, 'fixture', cors ? { config: { cors } } : {});
  return gw;
}

async function webState(g: TestGateway): Promise<unknown> {
  const res = await g.query<{ domain: { state: string } }>('{ domain(ref: { name: "web" }) { state } }');
  return res.data?.domain.state;
}

function fetchApp(g: TestGateway, init: RequestInit & { url?: string }): Promise<Response> {
  return Promise.resolve(g.app.yoga.fetch(init.url ?? GRAPHQL, init));
}

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,authorization',
  },
});

describe('simple requests a page can send without a preflight', () => {
  it.each([
    ['text/plain', JSON.stringify({ query: SUSPEND })],
    ['text/plain;charset=UTF-8', JSON.stringify({ query: SUSPEND })],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(SUSPEND)}`],
    [
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n${SUSPEND}\r\n--x--\r\n`,
    ],
  ])('a POST of %s is refused before it runs', async (type, body) => {
    const g = await gateway();
    const res = await fetchApp(g, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/CSRF/);
    expect(await webState(g)).toBe('RUNNING');
  });

  it('a GET from another site needs the CSRF header, and a mutation never runs over GET', async () => {
    const g = await gateway();
    const url = (query: string) => `${GRAPHQL}?query=${encodeURIComponent(query)}`;
    const read = url('{ domain(ref: { name: "web" }) { state } }');
    // What <img src> or <script src> on another site sends: Fetch Metadata says cross-site, no Origin.
    const crossSite = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
    for (const target of [url(SUSPEND), read]) {
      const img = await fetchApp(g, { url: target, headers: { accept: 'image/avif,image/webp,*/*', ...crossSite } });
      expect(img.status).toBe(403);
      expect(await img.text()).toMatch(/CSRF/);
    }
    const sameSite = await fetchApp(g, { url: read, headers: { 'sec-fetch-site': 'same-site' } });
    expect(sameSite.status).toBe(403);
    const withHeader = await fetchApp(g, {
      url: url(SUSPEND),
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...crossSite },
    });
    expect(withHeader.status).toBe(405);
    expect(await webState(g)).toBe('RUNNING');
    // What a same-origin page (urql's GET, an EventSource), a typed-in URL and a non-browser client send.
    for (const headers of [
      { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' } as Record<string, string>,
      { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' },
      {},
    ]) {
      const res = await fetchApp(g, { url: read, headers: { accept: 'application/json', ...headers } });
      expect(await res.json(), JSON.stringify(headers)).toEqual({
        extensions: { cost: expect.any(Object) },
        data: { domain: { state: 'RUNNING' } },
      });
      // A mutation still never runs over GET, however it comes.
      expect(
        (await fetchApp(g, { url: url(SUSPEND), headers: { accept: 'application/json', ...headers } })).status,
      ).toBe(405);
    }
    expect(await webState(g)).toBe('RUNNING');
  });

  it('a JSON POST from a client that sends no Origin runs', async () => {
    const g = await gateway();
    expect((await g.query(SUSPEND)).data).toEqual({ suspendDomain: { state: 'PAUSED' } });
  });

  it('GraphiQL still serves its page and sends the CSRF header with its requests', async () => {
    const g = await gateway();
    const page = await fetchApp(g, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('"additionalHeaders":{"x-graphql-yoga-csrf":"1"}');
  });
});

describe('CORS without cors.origins', () => {
  it('answers a preflight from another origin with no Access-Control headers', async () => {
    const g = await gateway();
    const res = await fetchApp(g, preflight('http://evil.example'));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a cross-origin POST that went ahead anyway, and lets a same-origin one through', async () => {
    const g = await gateway();
    const post = (origin: string) =>
      fetchApp(g, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ query: SUSPEND }),
      });
    const cross = await post('http://evil.example');
    expect(cross.status).toBe(403);
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    expect(await webState(g)).toBe('RUNNING');
    const same = await post('http://localhost');
    expect(await same.json()).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { suspendDomain: { state: 'PAUSED' } },
    });
  });
});

describe('CORS with cors.origins', () => {
  const app = 'http://app.example:8080';

  it('allows a listed origin, with credentials', async () => {
    const g = await gateway({ origins: [app, 'https://other.example'] });
    const pre = await fetchApp(g, preflight(app));
    expect(pre.headers.get('access-control-allow-origin')).toBe(app);
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST');
    const res = await fetchApp(g, {
      method: 'POST',
      headers: { origin: app, 'content-type': 'application/json' },
      body: JSON.stringify({ query: SUSPEND }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe(app);
    expect(await res.json()).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { suspendDomain: { state: 'PAUSED' } },
    });
  });

  it('still answers any other origin with nothing, and refuses its requests', async () => {
    const g = await gateway({ origins: [app] });
    const pre = await fetchApp(g, preflight('http://evil.example'));
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetchApp(g, {
      method: 'POST',
      headers: { origin: 'http://app.example:8081', 'content-type': 'application/json' },
      body: JSON.stringify({ query: SUSPEND }),
    });
    expect(res.status).toBe(403);
    expect(await webState(g)).toBe('RUNNING');
  });
});

describe('WebSocket origins, over a real socket', () => {
  /** Opens a WebSocket with these headers: the HTTP status of a refusal, or 101 once open. */
  async function upgrade(wsUrl: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws', { headers });
    const outcome = await Promise.race([
      once(ws, 'open').then(() => ({ status: 101, body: '' })),
      once(ws, 'unexpected-response').then(async ([, res]) => {
        const response = res as IncomingMessage;
        let body = '';
        for await (const chunk of response) body += String(chunk);
        return { status: response.statusCode ?? 0, body };
      }),
    ]);
    ws.terminate();
    return outcome;
  }

  it('refuses an unlisted Origin before the handshake, allows same-origin, listed and Origin-less clients', async () => {
    const g = await gateway({ origins: ['http://app.example'] });
    const url = (await g.app.start()).replace('//localhost:', '//127.0.0.1:');
    const wsUrl = url.replace(/^http/, 'ws');
    const { host } = new URL(url);
    const refused = await upgrade(wsUrl, { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect((await upgrade(wsUrl, { origin: 'null' })).status).toBe(403);
    expect((await upgrade(wsUrl, { origin: `http://${host}` })).status).toBe(101);
    expect((await upgrade(wsUrl, { origin: 'http://app.example' })).status).toBe(101);
    expect((await upgrade(wsUrl, {})).status).toBe(101);
  });

  it('refuses a cross-origin WebSocket in the development mode too', async () => {
    const g = await gateway();
    const wsUrl = (await g.app.start()).replace('//localhost:', '//127.0.0.1:').replace(/^http/, 'ws');
    expect((await upgrade(wsUrl, { origin: 'http://localhost:3000' })).status).toBe(403);
  });
});

describe('DNS rebinding in the development mode', () => {
  // A page at http://rebind.example:PORT whose name now resolves to 127.0.0.1 is same-origin with
  // itself: Origin and Host agree, so only the Host name gives it away.
  const rebound = { host: 'rebind.example:4000', origin: 'http://rebind.example:4000' };

  it('refuses a request whose Host is not a loopback name, over HTTP and WebSocket', async () => {
    const g = await gateway();
    const res = await fetchApp(g, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...rebound },
      body: JSON.stringify({ query: SUSPEND }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect(await webState(g)).toBe('RUNNING');
    const wsUrl = (await g.app.start()).replace('//localhost:', '//127.0.0.1:').replace(/^http/, 'ws');
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: rebound });
    // Ending a handshake the server refused makes ws report "closed before the connection was established".
    ws.on('error', () => undefined);
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(response.statusCode).toBe(403);
    ws.terminate();
    for (const host of ['localhost:4000', '127.0.0.1', '[::1]:4000']) {
      const ok = await fetchApp(g, {
        method: 'POST',
        headers: { 'content-type': 'application/json', host },
        body: JSON.stringify({ query: '{ hosts { name } }' }),
      });
      expect(ok.status, host).toBe(200);
    }
  });

  it('does not apply once identities are configured: a rebound page has no token to send', async () => {
    const { sha256 } = (await import('../../src/auth/authenticator.ts')).createApiToken();
    gw = await startGateway({ fixture: fixtureUri }, 'fixture', {
      config: { auth: { tokens: [{ name: 'a', sha256 }], grants: [{ identity: 'a', role: 'admin' }] } },
    });
    const res = await fetchApp(gw, {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'gateway.example.org' },
      body: JSON.stringify({ query: SUSPEND }),
    });
    expect(res.status).toBe(401);
  });
});
