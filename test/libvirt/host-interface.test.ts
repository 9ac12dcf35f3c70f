import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, ErrorNumber } from '../../src/libvirt/index.ts';
import { openFixtureHost } from '../support/test-host.ts';

const ethernetXml = `<interface type="ethernet" name="eth2">
  <start mode="none"/>
  <mac address="aa:bb:cc:dd:ee:02"/>
  <protocol family="ipv4"><dhcp/></protocol>
</interface>`;

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

describe('HostInterface on the test driver', () => {
  it('lists interfaces and finds them by name and MAC', async () => {
    expect((await c.interfaces()).map((i) => i.name)).toEqual(['eth1']);
    expect((await c.interfaces('active')).map((i) => i.name)).toEqual(['eth1']);
    const eth1 = await c.interfaceByName('eth1');
    expect(eth1.mac).toBe('aa:bb:cc:dd:ee:ff');
    expect((await c.interfaceByMac('aa:bb:cc:dd:ee:ff')).name).toBe('eth1');
    expect(await eth1.isActive()).toBe(true);
    expect(await eth1.xml()).toContain("<ip address='192.168.0.5' prefix='24'/>");
    await expect(eth1.xml({ inactive: true })).rejects.toMatchObject({ codeName: 'INVALID_ARG' });
  });

  it('defines, starts, stops and undefines an interface', async () => {
    const eth2 = await c.defineInterface(ethernetXml);
    expect(eth2).toMatchObject({ name: 'eth2', mac: 'aa:bb:cc:dd:ee:02' });
    expect(await eth2.isActive()).toBe(false);
    await eth2.start();
    expect(await eth2.isActive()).toBe(true);
    await eth2.stop();
    expect(await eth2.isActive()).toBe(false);
    await eth2.undefine();
    await expect(c.interfaceByName('eth2')).rejects.toMatchObject({ code: ErrorNumber.NO_INTERFACE });
  });
});
