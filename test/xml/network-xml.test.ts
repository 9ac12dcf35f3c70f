import { describe, expect, it } from 'vitest';
import {
  buildNetworkXml,
  type NetworkSpec,
  type NetworkXml,
  parseNetworkXml,
} from '../../src/libvirt/xml/network-xml.ts';
import { parseRoot } from '../../src/libvirt/xml/xml-codec.ts';
import { useTestDriverHosts } from '../support/test-host.ts';
import { readXmlFixture } from './xml-fixtures.ts';

function specOf(n: NetworkXml, name: string, bridgeName: string): NetworkSpec {
  const [ip] = n.ips;
  return {
    name,
    forwardMode: (n.forward?.mode ?? 'none') as NetworkSpec['forwardMode'],
    forwardDev: n.forward?.dev,
    bridgeName,
    stp: n.bridge?.stp,
    delay: n.bridge?.delay,
    domainName: n.domainName,
    ip: ip && ip.address !== undefined ? { address: ip.address, netmask: ip.netmask, prefix: ip.prefix } : undefined,
    dhcpRange: ip?.dhcpRanges[0],
    dhcpHosts: ip?.dhcpHosts,
  };
}

describe('libvirt test driver networks', () => {
  const hosts = useTestDriverHosts();

  it("parses test:///default's NAT network as the port reports it", async () => {
    const network = await hosts.def.networkByName('default');
    const parsed = parseNetworkXml(await network.xml());
    expect(parsed).toEqual({
      name: network.name,
      uuid: network.uuid,
      bridge: { name: await network.bridgeName(), stp: true, delay: 0 },
      forward: { mode: 'nat' },
      ips: [
        {
          family: 'ipv4',
          address: '192.168.122.1',
          netmask: '255.255.255.0',
          dhcpRanges: [{ start: '192.168.122.2', end: '192.168.122.254' }],
          dhcpHosts: [],
        },
      ],
    });
  });

  it('builds a network from the parsed spec that libvirt accepts and reads back the same', async () => {
    const lan = await hosts.host.networkByName('lan');
    const original = parseNetworkXml(await lan.xml());
    expect(original).toMatchObject({ name: 'lan', uuid: lan.uuid, bridge: { name: await lan.bridgeName() } });
    const copy = await hosts.host.defineNetwork(buildNetworkXml(specOf(original, 'lan-copy', 'virbr-copy')));
    try {
      const readBack = parseNetworkXml(await copy.xml());
      expect(readBack).toEqual({
        ...original,
        name: 'lan-copy',
        uuid: copy.uuid,
        bridge: { ...original.bridge, name: 'virbr-copy' },
      });
    } finally {
      await copy.undefine();
    }
  });

  it('builds isolated and routed networks with DHCP hosts, a DNS domain and escaped names', async () => {
    const isolated = await hosts.def.defineNetwork(
      buildNetworkXml({ name: `iso <&'">`, forwardMode: 'none', ip: { address: '10.9.0.1', prefix: 24 } }),
    );
    const routed = await hosts.def.defineNetwork(
      buildNetworkXml({
        name: 'routed',
        forwardMode: 'route',
        forwardDev: 'eth0',
        bridgeName: 'virbr-routed',
        stp: false,
        delay: 2,
        mac: '52:54:00:0a:0b:0c',
        domainName: 'example.test',
        ip: { address: '10.10.0.1', netmask: '255.255.0.0' },
        dhcpRange: { start: '10.10.0.100', end: '10.10.0.200' },
        dhcpHosts: [{ mac: '52:54:00:00:00:42', name: 'fixed', ip: '10.10.0.42' }],
      }),
    );
    try {
      const iso = parseNetworkXml(await isolated.xml());
      expect(iso.name).toBe(`iso <&'">`);
      expect(iso.forward).toBeUndefined();
      expect(iso.ips).toEqual([
        { family: 'ipv4', address: '10.9.0.1', prefix: 24, netmask: undefined, dhcpRanges: [], dhcpHosts: [] },
      ]);
      expect(parseNetworkXml(await routed.xml())).toEqual({
        name: 'routed',
        uuid: routed.uuid,
        forward: { mode: 'route', dev: 'eth0' },
        bridge: { name: 'virbr-routed', stp: false, delay: 2 },
        mac: '52:54:00:0a:0b:0c',
        domainName: 'example.test',
        ips: [
          {
            family: 'ipv4',
            address: '10.10.0.1',
            netmask: '255.255.0.0',
            dhcpRanges: [{ start: '10.10.0.100', end: '10.10.0.200' }],
            dhcpHosts: [{ mac: '52:54:00:00:00:42', name: 'fixed', ip: '10.10.0.42' }],
          },
        ],
      });
    } finally {
      await isolated.undefine();
      await routed.undefine();
    }
  });
});

describe('QEMU networks', () => {
  it("parses a NAT network with DHCP from QEMU's libvirt", () => {
    expect(parseNetworkXml(readXmlFixture('qemu-network-nat.xml'))).toEqual({
      name: 'virtql-nat',
      uuid: 'c074af1a-5e6c-435c-ad0e-6863a87907de',
      forward: { mode: 'nat' },
      bridge: { name: 'virbr-q100', stp: true, delay: 0 },
      mac: '52:54:00:bb:4a:42',
      ips: [
        {
          family: 'ipv4',
          address: '192.168.100.1',
          netmask: '255.255.255.0',
          dhcpRanges: [{ start: '192.168.100.2', end: '192.168.100.254' }],
          dhcpHosts: [],
        },
      ],
    });
  });

  it('reads IPv6 addresses, several ranges and a <forward/> without mode', () => {
    const parsed = parseNetworkXml(`<network><name>v6</name><forward/>
      <ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::10' end='fd00::20'/>
      <range start='fd00::30' end='fd00::40'/></dhcp></ip><ip address='10.0.0.1' prefix='8'/></network>`);
    expect(parsed.forward).toEqual({ mode: 'nat' });
    expect(parsed.ips.map((ip) => [ip.family, ip.address, ip.prefix, ip.dhcpRanges.length])).toEqual([
      ['ipv6', 'fd00::1', 64, 2],
      ['ipv4', '10.0.0.1', 8, 0],
    ]);
  });

  it('builds no <forward> for an isolated network and refuses DHCP without an address', () => {
    expect(parseRoot(buildNetworkXml({ name: 'i' }), 'network').child('forward')).toBeUndefined();
    expect(parseRoot(buildNetworkXml({ name: 'i', forwardMode: 'none' }), 'network').child('forward')).toBeUndefined();
    const v6 = parseRoot(buildNetworkXml({ name: 'v6', ip: { address: 'fd00::1', prefix: 64 } }), 'network');
    expect(v6.attrAt(['ip'], 'family')).toBe('ipv6');
    expect(() => buildNetworkXml({ name: 'x', dhcpRange: { start: '1', end: '2' } })).toThrow(RangeError);
  });
});
