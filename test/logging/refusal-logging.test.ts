import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { apiToken, wsConnect, wsQuery } from '../auth/auth-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';

type Line = Record<string, unknown>;

let gw: TestGateway;
let lines: Line[] = [];
const raw: string[] = [];
const logger = pino(
  { level: 'info' },
  {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Line);
    },
  },
);
const alice = apiToken('alice');

beforeAll(async () => {
  gw = await startGateway({ default: 'test:///default' }, 'default', {
    logger,
    config: { auth: { tokens: [alice.entry], grants: [{ identity: 'alice', role: 'viewer' }] } },
  });
});
afterAll(() => gw?.close());
beforeEach(() => {
  lines = [];
});

async function post(headers: Record<string, string>, body = JSON.stringify({ query: '{ hosts { name } }' })) {
  const res = await gw.app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, id: res.headers.get('x-request-id') };
}

const refusals = () => lines.filter((l) => l.msg === 'request refused');

describe('refused requests are logged', () => {
  it('a 401 once, with the request id the client got, the code and the reason, never the credential', async () => {
    const wrong = createApiToken().secret;
    const { status, id } = await post({ authorization: `Bearer ${wrong}`, 'x-request-id': 'probe-1' });
    expect(status).toBe(401);
    expect(id).toBe('probe-1');
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 40,
        requestId: 'probe-1',
        status: 401,
        code: 'INVALID_TOKEN',
        reason: 'token: unknown or revoked API token',
        method: 'POST',
      }),
    ]);
    expect(raw.join('')).not.toContain(wrong);
    expect(raw.join('')).not.toContain(wrong.slice(3, 20));
  });

  it('a 401 without credentials', async () => {
    const { status, id } = await post({});
    expect(status).toBe(401);
    expect(refusals()).toEqual([expect.objectContaining({ requestId: id, status: 401, code: 'UNAUTHENTICATED' })]);
  });

  it('a 403 for a foreign Origin, once', async () => {
    const { status, id } = await post({ origin: 'https://evil.example', authorization: `Bearer ${alice.secret}` });
    expect(status).toBe(403);
    const [line, ...more] = refusals();
    expect(more).toEqual([]);
    expect(line).toMatchObject({ requestId: id, status: 403, code: 'FORBIDDEN' });
    expect(String(line?.reason)).toContain('evil.example');
    expect(raw.join('')).not.toContain(alice.secret);
  });

  it('a 403 for a form POST without the CSRF header, once', async () => {
    const { status, id } = await post(
      { 'content-type': 'text/plain', authorization: `Bearer ${alice.secret}` },
      JSON.stringify({ query: '{ hosts { name } }' }),
    );
    expect(status).toBe(403);
    expect(refusals()).toEqual([expect.objectContaining({ requestId: id, status: 403, code: 'FORBIDDEN' })]);
  });

  it('a 403 for /metrics without Sys.Audit, once', async () => {
    const res = await gw.app.yoga.fetch('http://localhost/metrics', {
      headers: { authorization: `Bearer ${alice.secret}`, 'x-request-id': 'scrape-1' },
    });
    expect(res.status).toBe(403);
    expect(refusals()).toEqual([expect.objectContaining({ requestId: 'scrape-1', status: 403, code: 'FORBIDDEN' })]);
  });

  it('nothing for a request that passes', async () => {
    const { status } = await post({ authorization: `Bearer ${alice.secret}` });
    expect(status).toBe(200);
    expect(refusals()).toEqual([]);
  });
});

describe('refused WebSockets are logged', () => {
  let url: string;
  beforeAll(async () => {
    url = (await gw.app.start()).replace('//localhost:', '//127.0.0.1:').replace(/^http/, 'ws');
  });

  it('a graphql-ws connection with a bad token (4401), once, without the token', async () => {
    const wrong = createApiToken().secret;
    const ws = wsConnect(url, `Bearer ${wrong}`);
    await wsQuery(ws.client, '{ hosts { name } }').catch(() => undefined);
    expect((await ws.closed).code).toBe(4401);
    await ws.client.dispose();
    expect(refusals()).toEqual([
      expect.objectContaining({ status: 4401, code: 'INVALID_TOKEN', transport: 'websocket', source: '127.0.0.1' }),
    ]);
    expect(raw.join('')).not.toContain(wrong);
  });

  it('a volume data request without credentials (401), once', async () => {
    const res = await fetch(`${url.replace(/^ws/, 'http').replace(/\/graphql$/, '')}/volume-data/${'A'.repeat(43)}`, {
      method: 'PUT',
      body: 'x',
    });
    expect(res.status).toBe(401);
    expect(refusals()).toEqual([expect.objectContaining({ status: 401, code: 'UNAUTHENTICATED', method: 'PUT' })]);
  });

  it('an upgrade from a foreign Origin (403), once', async () => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers: { origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(0));
    });
    expect(status).toBe(403);
    expect(refusals()).toEqual([expect.objectContaining({ status: 403, code: 'FORBIDDEN', transport: 'websocket' })]);
  });
});
