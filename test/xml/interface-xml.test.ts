import { describe, expect, it } from 'vitest';
import { buildEthernetInterfaceXml, parseInterfaceXml } from '../../src/libvirt/xml/interface-xml.ts';
import { useTestDriverHosts } from '../support/test-host.ts';
import { readXmlFixture } from './xml-fixtures.ts';

describe('libvirt test driver host interfaces', () => {
  const hosts = useTestDriverHosts();

  it("parses test:///default's interface as the port reports it", async () => {
    const [iface] = await hosts.def.interfaces();
    if (iface === undefined) throw new Error('test:///default has no interface');
    expect(parseInterfaceXml(await iface.xml())).toEqual({
      type: 'ethernet',
      name: iface.name,
      mac: iface.mac,
      startMode: 'onboot',
      mtu: 1492,
      ipv4: { dhcp: false, addresses: [{ address: '192.168.0.5', prefix: 24 }], gateway: '192.168.0.1' },
      members: [],
    });
  });

  it('builds ethernet interfaces (static and DHCP) that libvirt accepts and reads back the same', async () => {
    const original = parseInterfaceXml(await (await hosts.host.interfaceByName('eth1')).xml());
    const ipv4 = original.ipv4?.addresses[0];
    if (ipv4?.prefix === undefined) throw new Error('eth1 has no static address');
    const copy = await hosts.host.defineInterface(
      buildEthernetInterfaceXml({
        name: 'eth-copy',
        startMode: 'onboot',
        mac: '52:54:00:00:00:aa',
        mtu: original.mtu,
        ipv4: { address: ipv4.address, prefix: ipv4.prefix, gateway: original.ipv4?.gateway },
      }),
    );
    const dhcp = await hosts.host.defineInterface(
      buildEthernetInterfaceXml({ name: 'eth-dhcp', startMode: 'hotplug', ipv4: { dhcp: true } }),
    );
    try {
      expect(parseInterfaceXml(await copy.xml())).toEqual({ ...original, name: 'eth-copy', mac: '52:54:00:00:00:aa' });
      expect(parseInterfaceXml(await dhcp.xml())).toEqual({
        type: 'ethernet',
        name: 'eth-dhcp',
        startMode: 'hotplug',
        ipv4: { dhcp: true, addresses: [] },
        members: [],
      });
    } finally {
      await copy.undefine();
      await dhcp.undefine();
    }
  });
});

describe('host interfaces from other backends', () => {
  it("parses an interface from QEMU's libvirt (udev backend)", () => {
    expect(parseInterfaceXml(readXmlFixture('qemu-interface-lo.xml'))).toEqual({
      type: 'ethernet',
      name: 'lo',
      mac: '00:00:00:00:00:00',
      mtu: 65536,
      link: { state: 'unknown' },
      members: [],
    });
  });

  it('reads bridges, VLANs and IPv6 settings (libvirt formatinterface examples)', () => {
    const bridge = parseInterfaceXml(`<interface type="bridge" name="br0">
      <start mode="onboot"/><mtu size="1500"/>
      <protocol family="ipv4"><dhcp/></protocol>
      <protocol family="ipv6"><autoconf/><ip address="2001:db8::5" prefix="64"/><route gateway="2001:db8::1"/></protocol>
      <bridge stp="off" delay="0.01">
        <interface type="ethernet" name="eth0"><mac address="ab:bb:cc:dd:ee:ff"/></interface>
        <interface type="ethernet" name="eth1"/>
      </bridge>
    </interface>`);
    expect(bridge).toMatchObject({
      type: 'bridge',
      name: 'br0',
      ipv4: { dhcp: true, addresses: [] },
      ipv6: {
        dhcp: false,
        autoconf: true,
        addresses: [{ address: '2001:db8::5', prefix: 64 }],
        gateway: '2001:db8::1',
      },
      members: ['eth0', 'eth1'],
    });
    const vlan = parseInterfaceXml(`<interface type="vlan" name="eth0.42"><start mode="onboot"/>
      <vlan tag="42"><interface name="eth0"/></vlan></interface>`);
    expect(vlan).toMatchObject({ type: 'vlan', vlanTag: 42, members: ['eth0'] });
  });
});
