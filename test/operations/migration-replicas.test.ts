import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { type ListeningGateway, listen, stopAll, subscribeWs, wsClient } from '../events/event-clients.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { bareDomainXml, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';

// A real migration started through replica A, followed and cancelled through replica B: the two
// gateways share only a redis-server.

const redis = await startRedis();
const skip =
  privateDaemonSkipReason() ?? ('unavailable' in redis ? `no redis-server: ${redis.unavailable}` : undefined);
if (skip) console.warn(`skipping the migration-across-replicas cases: ${skip}`);

afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

interface Op {
  id: string;
  status: string;
  errorMessage: string | null;
  progress: { dataTotalBytes: string | null } | null;
  migration: { newName: string; state: string; domain: { name: string; host: { name: string } } | null } | null;
}

describe.skipIf(skip !== undefined)('a tracked migration across two replicas', () => {
  let a: PrivateLibvirtd;
  let b: PrivateLibvirtd;
  let ca: Connection;
  let cb: Connection;
  let replicaA: ListeningGateway;
  let replicaB: ListeningGateway;
  let clientB: Client;
  let uuid: string;

  beforeAll(async () => {
    a = await startLibvirtd({ name: 'opr-a' });
    b = await startLibvirtd({ name: 'opr-b', joinNetnsOf: a });
    [ca, cb] = await Promise.all([Connection.open(a.uri), Connection.open(b.uri)]);
    const d = await ca.defineDomain(bareDomainXml('traveller', a.kvm));
    uuid = d.uuid;
    await d.start();
    const url = 'url' in redis ? redis.url : '';
    replicaA = await listen({ a: a.uri, b: b.uri }, { app: { redis: { url } } });
    replicaB = await listen({ a: a.uri, b: b.uri }, { app: { redis: { url } } });
    clientB = wsClient(replicaB.wsUrl);
  }, 120_000);
  afterAll(async () => {
    stopAll();
    await clientB?.dispose();
    await replicaA?.close();
    await replicaB?.close();
    await Promise.all([ca?.close(), cb?.close()]);
    await Promise.all([b?.stop(), a?.stop()]);
  });

  const startOnA = async (from: string, to: string): Promise<string> => {
    const res = await replicaA.app.yoga.fetch(replicaA.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { startMigration(input: { host: "${from}", domain: { uuid: "${uuid}" }, destination: { host: "${to}" },
          migrateUri: "tcp://127.0.0.1", bandwidthMiBs: "1" }) { id status } }`,
      }),
    });
    const { data } = (await res.json()) as { data: { startMigration: { id: string; status: string } } };
    expect(data.startMigration.status).toBe('RUNNING');
    return data.startMigration.id;
  };

  it('B streams the job statistics of a migration A runs, then its outcome with the domain found on B', async () => {
    const id = await startOnA('a', 'b');
    const sub = subscribeWs<{ operationUpdated: Op }>(
      clientB,
      `subscription ($id: ID!) { operationUpdated(id: $id) { id status errorMessage progress { dataTotalBytes }
        migration { newName state domain { name host { name } } } } }`,
      { id },
    );
    await sub.results.ended;
    const ops = sub.results.seen.map((r) => r.data?.operationUpdated as Op);
    expect(ops.filter((o) => o.status === 'RUNNING' && o.progress?.dataTotalBytes).length).toBeGreaterThan(0);
    expect(ops.at(-1)).toMatchObject({
      id,
      status: 'COMPLETED',
      errorMessage: null,
      migration: { newName: 'traveller', state: 'RUNNING', domain: { name: 'traveller', host: { name: 'b' } } },
    });
    expect(await (await cb.domainByUuid(uuid)).isActive()).toBe(true);
  });

  it('cancelOperation on B aborts the migration A runs; both replicas answer CANCELLED', async () => {
    const id = await startOnA('b', 'a');
    const watch = subscribeWs<{ operationUpdated: Op }>(
      clientB,
      'subscription ($id: ID!) { operationUpdated(id: $id) { status } }',
      { id },
    );
    await watch.results.untilSeen(1);
    const cancelled = await replicaB.app.yoga.fetch(replicaB.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { cancelOperation(input: { id: "${id}" }) { id } }` }),
    });
    expect(((await cancelled.json()) as { errors?: unknown }).errors).toBeUndefined();
    await watch.results.ended;
    expect(watch.results.seen.at(-1)?.data?.operationUpdated.status).toBe('CANCELLED');
    for (const replica of [replicaA, replicaB]) {
      const res = await replica.app.yoga.fetch(replica.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ operation(id: "${id}") { status errorCode } }` }),
      });
      expect(((await res.json()) as { data: { operation: { status: string } } }).data.operation.status).toBe(
        'CANCELLED',
      );
    }
    // The domain stayed where it was.
    expect(await (await cb.domainByUuid(uuid)).isActive()).toBe(true);
  });
});
