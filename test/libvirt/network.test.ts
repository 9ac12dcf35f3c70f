import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, ErrorNumber } from '../../src/libvirt/index.ts';
import { openFixtureHost } from '../support/test-host.ts';

function networkXml(name: string): string {
  return `<network><name>${name}</name><bridge name="vb-${name}"/><forward mode="nat"/>
  <ip address="10.99.0.1" netmask="255.255.255.0"><dhcp><range start="10.99.0.10" end="10.99.0.20"/></dhcp></ip>
</network>`;
}

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

describe('Network', () => {
  it('lists and finds networks by name and UUID', async () => {
    expect((await c.networks()).map((n) => n.name)).toEqual(['lan']);
    expect((await c.networks('active')).map((n) => n.name)).toEqual(['lan']);
    expect(await c.networks('inactive')).toEqual([]);
    const lan = await c.networkByName('lan');
    expect(lan.uuid).toBe('004b96e1-2d78-c30f-5aa5-f03c87d21e70');
    expect((await c.networkByUuid(lan.uuid)).name).toBe('lan');
  });

  it('reads bridge, flags and XML', async () => {
    const lan = await c.networkByName('lan');
    expect(await lan.bridgeName()).toBe('virbr-lan');
    expect(await lan.isActive()).toBe(true);
    expect(await lan.isPersistent()).toBe(true);
    expect(await lan.autostart()).toBe(false);
    expect(await lan.xml()).toContain("<forward mode='nat'");
    await expect(lan.xml({ inactive: true })).rejects.toMatchObject({ codeName: 'INVALID_ARG' });
  });

  it('defines a persistent network inactive, then starts, stops and undefines it', async () => {
    const n = await c.defineNetwork(networkXml('def'));
    expect(await n.isActive()).toBe(false);
    expect(await n.isPersistent()).toBe(true);
    await n.setAutostart(true);
    expect(await n.autostart()).toBe(true);
    await n.start();
    expect(await n.isActive()).toBe(true);
    await n.stop();
    expect(await n.isActive()).toBe(false);
    await n.undefine();
    await expect(c.networkByName('def')).rejects.toMatchObject({ code: ErrorNumber.NO_NETWORK });
  });

  it('creates a transient network that exists only while active', async () => {
    const n = await c.createNetwork(networkXml('tmp'));
    expect(await n.isActive()).toBe(true);
    expect(await n.isPersistent()).toBe(false);
    await n.stop();
    await expect(c.networkByUuid(n.uuid)).rejects.toMatchObject({ codeName: 'NO_NETWORK' });
  });

  it('refuses to start an active network', async () => {
    const lan = await c.networkByName('lan');
    await expect(lan.start()).rejects.toMatchObject({ codeName: 'OPERATION_INVALID' });
  });
});
