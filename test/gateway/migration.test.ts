import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { type ListeningGateway, listen, stopAll, subscribeWs, wsClient } from '../events/event-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { bareDomainXml, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the migration cases: ${skip}`);

interface Result {
  oldName: string;
  newName: string;
  uuid: string;
  state: string;
  sourceUri: string;
  destinationUri: string;
  sourceHostname: string;
  destinationHostname: string;
  domain: { name: string; state: string; persistent: boolean; host: { name: string } } | null;
}

const migrate = (
  args: string,
) => `mutation { migrateDomain(input: { ${args} }) { oldName newName uuid state sourceUri destinationUri
  sourceHostname destinationHostname domain { name state persistent host { name } } } }`;

describe.skipIf(skip !== undefined)('migrateDomain between two private libvirtd daemons', () => {
  let a: PrivateLibvirtd;
  let b: PrivateLibvirtd;
  let ca: Connection;
  let cb: Connection;
  let gw: TestGateway;
  let uuid: string;

  beforeAll(async () => {
    a = await startLibvirtd({ name: 'mig-a' });
    b = await startLibvirtd({ name: 'mig-b', joinNetnsOf: a });
    [ca, cb] = await Promise.all([Connection.open(a.uri), Connection.open(b.uri)]);
    gw = await startGateway({ a: a.uri, b: b.uri });
    const d = await ca.defineDomain(bareDomainXml('wanderer', a.kvm));
    uuid = d.uuid;
    await d.start();
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await Promise.all([ca?.close(), cb?.close()]);
    await Promise.all([b?.stop(), a?.stop()]);
  });

  it('migrates live, client-managed, persisting on the destination and undefining the source', async () => {
    const res = await gw.query<{ migrateDomain: Result }>(
      migrate(`host: "a", domain: { name: "wanderer" }, destination: { host: "b" }, migrateUri: "tcp://127.0.0.1",
        persistDest: true, undefineSource: true`),
    );
    expect(res.errors).toBeUndefined();
    const r = res.data?.migrateDomain as Result;
    expect(r).toMatchObject({ oldName: 'wanderer', newName: 'wanderer', uuid, state: 'RUNNING' });
    expect(r.sourceUri).toBe(await ca.canonicalUri());
    expect(r.destinationUri).toBe(await cb.canonicalUri());
    expect(r.sourceHostname).toBe(await ca.hostname());
    expect(r.destinationHostname).toBe(await cb.hostname());
    expect(r.domain).toEqual({ name: 'wanderer', state: 'RUNNING', persistent: true, host: { name: 'b' } });
    const onB = await cb.domainByUuid(uuid);
    expect((await onB.state()).state).toBe('RUNNING');
    expect(await onB.isPersistent()).toBe(true);
    await expect(ca.domainByUuid(uuid)).rejects.toMatchObject({ codeName: 'NO_DOMAIN' });
  });

  it('migrates back peer-to-peer under a new name, leaving the source definition', async () => {
    const res = await gw.query<{ migrateDomain: Result }>(
      migrate(`host: "b", domain: { uuid: "${uuid}" }, destination: { host: "a" }, peer2peer: true,
        migrateUri: "tcp://127.0.0.1", newName: "homecoming"`),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.migrateDomain).toMatchObject({
      oldName: 'wanderer',
      newName: 'homecoming',
      uuid,
      state: 'RUNNING',
    });
    const onA = await ca.domainByUuid(uuid);
    expect(onA.name).toBe('homecoming');
    expect(await onA.isPersistent()).toBe(false);
    const leftOnB = await cb.domainByUuid(uuid);
    expect(await leftOnB.isActive()).toBe(false);
    expect(await leftOnB.isPersistent()).toBe(true);
  });

  it('streams job statistics of a tracked migration until it completes, and can cancel one', async () => {
    const live: ListeningGateway = await listen({ a: a.uri, b: b.uri });
    const client = wsClient(live.wsUrl);
    try {
      interface Op {
        id: string;
        status: string;
        progress: { dataTotalBytes: string | null; percent: number | null } | null;
        migration: { newName: string; state: string } | null;
        errorMessage?: string | null;
      }
      // The peer-to-peer case left an inactive definition on b; a migration there would clash with it.
      await (await cb.domainByUuid(uuid)).undefine();
      const slow = `domain: { uuid: "${uuid}" }, migrateUri: "tcp://127.0.0.1", bandwidthMiBs: "1"`;
      const started = await live.app.yoga.fetch(live.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation { startMigration(input: { host: "a", ${slow}, destination: { host: "b" } }) { id status } }`,
        }),
      });
      const { data } = (await started.json()) as { data: { startMigration: { id: string; status: string } } };
      expect(data.startMigration.status).toBe('RUNNING');
      const sub = subscribeWs<{ operationUpdated: Op }>(
        client,
        `subscription ($id: ID!) { operationUpdated(id: $id) { id status errorMessage progress { dataTotalBytes percent } migration { newName state } } }`,
        { id: data.startMigration.id },
      );
      await sub.results.ended;
      const ops = sub.results.seen.map((r) => r.data?.operationUpdated as Op);
      expect(ops.at(-1)).toMatchObject({
        errorMessage: null,
        status: 'COMPLETED',
        migration: { newName: 'homecoming', state: 'RUNNING' },
      });
      const readings = ops.filter((o) => o.status === 'RUNNING' && o.progress?.dataTotalBytes);
      expect(readings.length).toBeGreaterThan(0);
      expect(await (await cb.domainByUuid(uuid)).isActive()).toBe(true);

      const again = await live.app.yoga.fetch(live.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation { startMigration(input: { host: "b", ${slow}, destination: { host: "a" } }) { id } }`,
        }),
      });
      const id = ((await again.json()) as { data: { startMigration: { id: string } } }).data.startMigration.id;
      const watch = subscribeWs<{ operationUpdated: Op }>(
        client,
        'subscription ($id: ID!) { operationUpdated(id: $id) { status } }',
        {
          id,
        },
      );
      await watch.results.untilSeen(1);
      const cancelled = await live.app.yoga.fetch(live.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `mutation { cancelOperation(input: { id: "${id}" }) { id } }` }),
      });
      expect(((await cancelled.json()) as { errors?: unknown }).errors).toBeUndefined();
      await watch.results.ended;
      expect(watch.results.seen.at(-1)?.data?.operationUpdated.status).toBe('CANCELLED');
      expect(await (await cb.domainByUuid(uuid)).isActive()).toBe(true);
    } finally {
      stopAll();
      await client.dispose();
      await live.close();
    }
  });

  it('refuses a client URI that would read a file or run a program on the gateway', async () => {
    const res = await gw.query(
      migrate(`host: "b", domain: { uuid: "${uuid}" },
        destination: { uri: { driver: "qemu", transport: "unix", path: "system", params: [{ name: "socket", value: "/tmp/x" }] } }`),
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'destination.uri.params.socket',
    });
    expect(await (await cb.domainByUuid(uuid)).isActive()).toBe(true);
  });
});
