import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { listening, stopAll, subscribeWs } from '../events/event-clients.ts';
import { fixtureUri } from '../support/test-host.ts';
import { apiToken, listenSecured, type SecuredGateway, wsConnect } from './auth-clients.ts';

// A tenant whose grant names team-a* pools and networks subscribes to every pool and network
// event of the host: only its own objects' events reach it, while the admin sees them all.

const admin = apiToken('admin');
const tenant = apiToken('tenant');
let gw: SecuredGateway;
let port: Connection;

beforeAll(async () => {
  gw = await listenSecured(
    { fixture: fixtureUri },
    {
      auth: {
        tokens: [admin.entry, tenant.entry],
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'tenant', role: 'viewer', pools: ['team-a*'], networks: ['team-a*'] },
        ],
      },
    },
  );
  port = await gw.registry.connection('fixture');
});
afterEach(() => stopAll());
afterAll(async () => {
  await gw.close();
});

const NETWORK_EVENTS = 'subscription { networkEvents { networkName type } }';
const POOL_EVENTS = 'subscription { storagePoolEvents { poolName type } }';
type NetworkEvents = { networkEvents: { networkName: string; type: string } };
type PoolEvents = { storagePoolEvents: { poolName: string; type: string } };

describe('pool and network events under pool and network globs', () => {
  it('deliver only the granted pools’ and networks’ events; the admin sees every one', async () => {
    const tenantWs = wsConnect(gw.wsUrl, tenant.bearer);
    const adminWs = wsConnect(gw.wsUrl, admin.bearer);
    const subs = {
      tenantNets: subscribeWs<NetworkEvents>(tenantWs.client, NETWORK_EVENTS),
      tenantPools: subscribeWs<PoolEvents>(tenantWs.client, POOL_EVENTS),
      adminNets: subscribeWs<NetworkEvents>(adminWs.client, NETWORK_EVENTS),
      adminPools: subscribeWs<PoolEvents>(adminWs.client, POOL_EVENTS),
    };
    await Promise.all([tenantWs.connected, adminWs.connected]);
    await listening(gw.app.events, 4);

    // Others' objects first, the tenant's last: events arrive in order, so once the tenant has its
    // own, the others' would have come before them.
    const lan = await port.networkByName('lan');
    await lan.stop();
    await lan.start();
    const pool = await port.storagePoolByName('default-pool');
    await pool.stop();
    await pool.start();
    const net = await port.defineNetwork("<network><name>team-a-lan</name><bridge name='tabr1'/></network>");
    await net.start();
    const own = await port.defineStoragePool(
      "<pool type='dir'><name>team-a-pool</name><target><path>/team-a-pool</path></target></pool>",
    );
    await own.start();

    await subs.adminNets.results.untilSeen(4);
    expect(subs.adminNets.results.seen.map((r) => r.data?.networkEvents)).toEqual([
      { networkName: 'lan', type: 'STOPPED' },
      { networkName: 'lan', type: 'STARTED' },
      { networkName: 'team-a-lan', type: 'DEFINED' },
      { networkName: 'team-a-lan', type: 'STARTED' },
    ]);
    await subs.adminPools.results.untilSeen(4);
    expect(subs.adminPools.results.seen.map((r) => r.data?.storagePoolEvents)).toEqual([
      { poolName: 'default-pool', type: 'STOPPED' },
      { poolName: 'default-pool', type: 'STARTED' },
      { poolName: 'team-a-pool', type: 'DEFINED' },
      { poolName: 'team-a-pool', type: 'STARTED' },
    ]);
    await subs.tenantNets.results.untilSeen(2);
    expect(subs.tenantNets.results.seen.map((r) => r.data?.networkEvents)).toEqual([
      { networkName: 'team-a-lan', type: 'DEFINED' },
      { networkName: 'team-a-lan', type: 'STARTED' },
    ]);
    await subs.tenantPools.results.untilSeen(2);
    expect(subs.tenantPools.results.seen.map((r) => r.data?.storagePoolEvents)).toEqual([
      { poolName: 'team-a-pool', type: 'DEFINED' },
      { poolName: 'team-a-pool', type: 'STARTED' },
    ]);
  });
});
