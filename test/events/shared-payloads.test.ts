import type { ExecutionResult } from 'graphql';
import { stringifyMessage } from 'graphql-ws';
import { createGraphQLError } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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
});
