import {
  buildXml,
  element,
  isOn,
  optionalCount,
  optionalText,
  parseRoot,
  requireAttr,
  requireText,
  type XmlElement,
} from './xml-codec.ts';

export interface NetworkDhcpRange {
  start: string;
  end: string;
}

export interface NetworkDhcpHost {
  mac?: string;
  name?: string;
  ip?: string;
}

export interface NetworkIp {
  family: 'ipv4' | 'ipv6';
  address?: string;
  netmask?: string;
  prefix?: number;
  dhcpRanges: NetworkDhcpRange[];
  dhcpHosts: NetworkDhcpHost[];
}

export interface NetworkXml {
  name: string;
  uuid?: string;
  bridge?: { name?: string; stp?: boolean; delay?: number };
  /** Absent for an isolated network. */
  forward?: { mode: string; dev?: string };
  /** The DNS domain of the network's DHCP clients (`<domain name>`). */
  domainName?: string;
  ips: NetworkIp[];
  /** The bridge's MAC address. */
  mac?: string;
}

function readIp(el: XmlElement): NetworkIp {
  const address = el.attr('address');
  const family = el.attr('family') ?? (address?.includes(':') ? 'ipv6' : 'ipv4');
  const dhcp = el.child('dhcp');
  return {
    family: family === 'ipv6' ? 'ipv6' : 'ipv4',
    address,
    netmask: el.attr('netmask'),
    prefix: optionalCount(el.attr('prefix'), '<ip prefix>'),
    dhcpRanges:
      dhcp?.elements('range').map((r) => ({ start: requireAttr(r, 'start'), end: requireAttr(r, 'end') })) ?? [],
    dhcpHosts:
      dhcp?.elements('host').map((h) => ({ mac: h.attr('mac'), name: h.attr('name'), ip: h.attr('ip') })) ?? [],
  };
}

/** Reads a virtual network document (virNetworkGetXMLDesc). */
export function parseNetworkXml(xml: string): NetworkXml {
  const root = parseRoot(xml, 'network');
  const bridge = root.child('bridge');
  const forward = root.child('forward');
  return {
    name: requireText(root, 'name'),
    uuid: optionalText(root, 'uuid'),
    bridge:
      bridge === undefined
        ? undefined
        : {
            name: bridge.attr('name'),
            stp: isOn(bridge.attr('stp')),
            delay: optionalCount(bridge.attr('delay'), '<bridge delay>'),
          },
    // A <forward/> without a mode is NAT.
    forward: forward === undefined ? undefined : { mode: forward.attr('mode') ?? 'nat', dev: forward.attr('dev') },
    domainName: root.attrAt(['domain'], 'name'),
    ips: root.elements('ip').map(readIp),
    mac: root.attrAt(['mac'], 'address'),
  };
}

export type NetworkForwardMode =
  | 'none'
  | 'nat'
  | 'route'
  | 'open'
  | 'bridge'
  | 'private'
  | 'vepa'
  | 'passthrough'
  | 'hostdev';

export interface NetworkSpec {
  name: string;
  uuid?: string;
  /** 'none' (or leaving it out) gives no `<forward>`: an isolated network. */
  forwardMode?: NetworkForwardMode;
  /** The host device NAT or routed traffic leaves through. */
  forwardDev?: string;
  /** @default chosen by libvirt (virbrN) */
  bridgeName?: string;
  stp?: boolean;
  delay?: number;
  mac?: string;
  ip?: { address: string; netmask?: string; prefix?: number };
  /** DHCP addresses handed out on `ip`'s subnet. */
  dhcpRange?: NetworkDhcpRange;
  dhcpHosts?: NetworkDhcpHost[];
  domainName?: string;
}

/** A virtual network definition for virNetworkDefineXML / virNetworkCreateXML. */
export function buildNetworkXml(spec: NetworkSpec): string {
  const { ip, dhcpRange, dhcpHosts = [] } = spec;
  if (ip === undefined && (dhcpRange !== undefined || dhcpHosts.length > 0)) {
    throw new RangeError('DHCP needs an ip address for the network');
  }
  const forwarded = spec.forwardMode !== undefined && spec.forwardMode !== 'none';
  const hasBridge = spec.bridgeName !== undefined || spec.stp !== undefined || spec.delay !== undefined;
  const dhcp = dhcpRange !== undefined || dhcpHosts.length > 0;
  return buildXml(
    element('network', {}, [
      element('name', {}, spec.name),
      spec.uuid !== undefined && element('uuid', {}, spec.uuid),
      forwarded && element('forward', { mode: spec.forwardMode, dev: spec.forwardDev }),
      hasBridge &&
        element('bridge', {
          name: spec.bridgeName,
          stp: spec.stp === undefined ? undefined : spec.stp ? 'on' : 'off',
          delay: spec.delay,
        }),
      spec.mac !== undefined && element('mac', { address: spec.mac }),
      spec.domainName !== undefined && element('domain', { name: spec.domainName }),
      ip !== undefined &&
        element(
          'ip',
          {
            family: ip.address.includes(':') ? 'ipv6' : undefined,
            address: ip.address,
            netmask: ip.netmask,
            prefix: ip.prefix,
          },
          [
            dhcp &&
              element('dhcp', {}, [
                dhcpRange !== undefined && element('range', { start: dhcpRange.start, end: dhcpRange.end }),
                ...dhcpHosts.map((h) => element('host', { mac: h.mac, name: h.name, ip: h.ip })),
              ]),
          ],
        ),
    ]),
  );
}
