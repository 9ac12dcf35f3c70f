import type { ExecutionResult } from 'graphql';
import { stringifyMessage } from 'graphql-ws';
import { createGraphQLError } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { stringifiedOnce } from '../../src/events/use-shared-event-execution.ts';
import { nextHead, nextMessage, payloadOf } from '../../src/events/ws-next-messages.ts';
import { formattedForWire } from '../../src/schema/core/errors.ts';
import { apiToken, listenSecured, postGraphQL, type SecuredGateway } from '../auth/auth-clients.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';
import { listening } from './event-clients.ts';

describe('a next message', () => {
  it('is byte for byte what graphql-ws would send, errors formatted for the wire', () => {
    const plain: ExecutionResult = { data: { x: 'ü "quoted"' }, extensions: { cost: { requested: 3, limit: 9 } } };
    const failed: ExecutionResult = {
      data: null,
      errors: [createGraphQLError('no', { extensions: { code: 'NOT_FOUND', http: { status: 404 } } })],
    };
    for (const [id, result] of [
      ['1', plain],
      ['a"b\u2028', failed],
    ] as const) {
      const payload = result.errors ? { ...result, errors: result.errors.map(formattedForWire) } : result;
      expect(nextMessage(nextHead(id), result).toString()).toBe(
        stringifyMessage({ id, type: 'next', payload } as never),
      );
    }
    expect(nextMessage(nextHead('1'), failed).toString()).not.toContain('http');
  });

  it('is serialised once per result object, never shared between two objects of equal content', () => {
    const result = { data: { n: 1 } };
    const twin = { data: { n: 1 } };
    expect(payloadOf(result)).toBe(payloadOf(result));
    expect(payloadOf(twin)).not.toBe(payloadOf(result));
  });
});

describe('a shared result over SSE', () => {
  it('is stringified once for every subscriber of its group, and a copy of it on its own', () => {
    const result = stringifiedOnce({ data: { n: 1 } }) as { data: unknown; stringify: (v: unknown) => string };
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      expect(result.stringify(result)).toBe('{"data":{"n":1}}');
      expect(result.stringify(result)).toBe('{"data":{"n":1}}');
      expect(spy).toHaveBeenCalledTimes(1);
      // A copy (yoga's with sanitised errors, the cost extension's first payload) is its own text.
      const copy = { ...result, extensions: { cost: 1 } };
      expect('stringify' in copy).toBe(false);
      expect(result.stringify(copy)).toBe('{"data":{"n":1},"extensions":{"cost":1}}');
    } finally {
      spy.mockRestore();
    }
  });
});

// The same event to two subscribers of one group (same identity's grants, document and variables)
// and to one of another group (an identity that sees fewer domains): the group's two sockets get
// the same payload text; the other identity gets its own, computed for its grants.
const admin = apiToken('admin');
const otherAdmin = apiToken('admin-2');
const team = apiToken('team-a');
let gw: SecuredGateway;

beforeAll(async () => {
  gw = await listenSecured(
    { fixture: fixtureUri },
    {
      auth: {
        tokens: [admin.entry, otherAdmin.entry, team.entry],
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'admin-2', role: 'admin' },
          { identity: 'team-a', role: 'operator', domains: ['web'] },
        ],
      },
    },
  );
});
afterAll(async () => {
  await gw?.close();
});

const EVENTS =
  'subscription { domainEvents(types: [SUSPENDED, RESUMED]) { domainName type host { domains { name } } } }';

/** A raw graphql-ws socket subscribed to EVENTS: the text of every `next` message it gets. */
async function rawSubscriber(authorization: string, id: string) {
  const socket = new WebSocket(gw.wsUrl, 'graphql-transport-ws');
  const messages: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const acked = deferred<void>();
  socket.on('message', (data) => {
    const text = String(data);
    const type = (JSON.parse(text) as { type: string }).type;
    if (type === 'connection_ack') return acked.resolve();
    if (type !== 'next') return;
    messages.push(text);
    for (const w of waiters.filter((w) => messages.length >= w.n)) w.resolve();
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } }));
  await acked.promise;
  socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: EVENTS } }));
  return {
    messages,
    until: (n: number) =>
      messages.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () => socket.close(),
  };
}

/** An SSE subscription to EVENTS: the data text of every `next` event, as it came. */
function rawSseSubscriber(authorization: string) {
  const texts: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
      body: JSON.stringify({ query: EVENTS }),
      signal: abort.signal,
    });
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const data = lines.find((line) => line.startsWith('data: '));
        if (lines[0] === 'event: next' && data) texts.push(data.slice('data: '.length));
        for (const w of waiters.filter((w) => texts.length >= w.n)) w.resolve();
      }
    }
  })().catch(() => undefined);
  return {
    texts,
    until: (n: number) =>
      texts.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () => abort.abort(),
  };
}

const payloadText = (message: string, id: string) => {
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  expect(message.startsWith(head)).toBe(true);
  return message.slice(head.length, -1);
};

async function act(query: string): Promise<void> {
  const { body } = await postGraphQL(gw.url, query, { authorization: admin.bearer });
  expect(body.errors).toBeUndefined();
}

describe('payloads of one event to several groups', () => {
  it('are the same text within a group, and computed for its grants in each group', async () => {
    const one = await rawSubscriber(admin.bearer, 'one');
    const two = await rawSubscriber(otherAdmin.bearer, 'two');
    const teamSub = await rawSubscriber(team.bearer, 'one');
    await listening(gw.app.events, 3);
    await act('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');
    await Promise.all([one.until(2), two.until(2), teamSub.until(2)]);

    for (const i of [0, 1]) {
      const adminText = payloadText(one.messages[i] as string, 'one');
      // Byte-identical payloads within the group (the first one with its cost extension too).
      expect(payloadText(two.messages[i] as string, 'two')).toBe(adminText);
      const teamText = payloadText(teamSub.messages[i] as string, 'one');
      expect(teamText).not.toBe(adminText);
      const domainsOf = (text: string) =>
        (
          JSON.parse(text) as { data: { domainEvents: { host: { domains: Array<{ name: string }> } } } }
        ).data.domainEvents.host.domains.map((d) => d.name);
      expect(domainsOf(teamText)).toEqual(['web']);
      expect(domainsOf(adminText)).toContain('db');
    }
    expect(JSON.parse(one.messages[0] as string).payload.extensions.cost).toBeDefined();
    expect(JSON.parse(one.messages[1] as string).payload.extensions).toBeUndefined();
    for (const s of [one, two, teamSub]) s.close();
    await listening(gw.app.events, 0);
  });

  it('are the same text within a group over SSE too, and computed for its grants in each group', async () => {
    const one = rawSseSubscriber(admin.bearer);
    const two = rawSseSubscriber(otherAdmin.bearer);
    const teamSub = rawSseSubscriber(team.bearer);
    await listening(gw.app.events, 3);
    await act('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    await act('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');
    await Promise.all([one.until(2), two.until(2), teamSub.until(2)]);
    for (const i of [0, 1]) {
      expect(two.texts[i]).toBe(one.texts[i]);
      expect(teamSub.texts[i]).not.toBe(one.texts[i]);
      expect(teamSub.texts[i]).not.toContain('"db"');
      expect(one.texts[i]).toContain('"db"');
    }
    for (const s of [one, two, teamSub]) s.close();
    await listening(gw.app.events, 0);
  });
});
