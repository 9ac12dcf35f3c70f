import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
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
import type { GraphQLResponse } from '../support/gateway.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { fixtureUri } from '../support/test-host.ts';

const redis = await startRedis();
if ('unavailable' in redis) console.warn(`skipping the shared rate limit: ${redis.unavailable}`);

/** A replica: its own registry and app over the fixture host, sharing `url`'s Redis. */
async function replica(url: string, limits: Record<string, unknown>): Promise<{ app: App; url: string }> {
  const config = await resolveConfig({ limits }, { env: { VIRTQL_HOSTS: `fixture=${fixtureUri}` } });
  const logger = pino({ level: 'silent' });
  const registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
  const app = buildApp({ registry, logger, security: config.security, port: 0, hostname: '127.0.0.1', redis: { url } });
  return { app, url: await app.start() };
}

async function post(url: string, query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}

afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

describe.skipIf('unavailable' in redis)('rate limit shared through Redis', () => {
  const replicas: Array<{ app: App; url: string }> = [];
  beforeAll(async () => {
    if (!('url' in redis)) return;
    const limits = { rateLimit: { requests: 4, windowSeconds: 60 } };
    replicas.push(await replica(redis.url, limits), await replica(redis.url, limits));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.app.stop()));
  });

  it('counts an identity’s requests on both replicas against one limit', async () => {
    const [a, b] = replicas.map((r) => r.url) as [string, string];
    // Two on each replica: four in all, the limit.
    for (const url of [a, b, a, b]) {
      const { status, body } = await post(url, '{ host { name } }');
      expect(status).toBe(200);
      expect(body.data).toEqual({ host: { name: 'fixture' } });
    }
    for (const url of [a, b]) {
      const started = performance.now();
      const { status, body } = await post(url, '{ host { name } }');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(status).toBe(429);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', max: 4 });
      expect(body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    }
  });
});

describe.skipIf('unavailable' in redis)('subscription cap shared through Redis', () => {
  const replicas: Array<{ app: App; url: string }> = [];
  beforeAll(async () => {
    if (!('url' in redis)) return;
    const limits = { subscriptionsPerIdentity: 2, rateLimit: { requests: 0 } };
    replicas.push(await replica(redis.url, limits), await replica(redis.url, limits));
  });
  afterAll(async () => {
    stopAll();
    await Promise.all(replicas.map((r) => r.app.stop()));
  });

  it('counts an identity’s open subscriptions on both replicas against one cap, and frees a stopped one’s place', async () => {
    const [a, b] = replicas as [{ app: App; url: string }, { app: App; url: string }];
    const onA = subscribeSse(a.url, DOMAIN_EVENTS);
    const client = wsClient(b.url.replace(/^http/, 'ws'));
    try {
      const onB = subscribeWs(client, DOMAIN_EVENTS);
      await listening(a.app.events, 1);
      await listening(b.app.events, 1);

      const started = performance.now();
      const third = await subscribeWs(client, DOMAIN_EVENTS).results.next();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(third.errors?.[0]?.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'subscriptionsPerIdentity',
        max: 2,
      });
      const thirdOnA = await post(a.url, DOMAIN_EVENTS);
      expect(thirdOnA.body.errors?.[0]?.extensions?.limit).toBe('subscriptionsPerIdentity');

      onA.stop();
      await listening(a.app.events, 0);
      const replacement = subscribeSse<DomainEventData>(a.url, DOMAIN_EVENTS, { domain: { name: 'web' } });
      await listening(a.app.events, 1);
      const suspended = await post(a.url, 'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
      expect(suspended.body.errors).toBeUndefined();
      expect((await replacement.results.next(isDomainEvent('web', 'SUSPENDED'))).errors).toBeUndefined();
      onB.stop();
      replacement.stop();
    } finally {
      await client.dispose();
    }
  });
});
