import {
  buildXml,
  element,
  optionalCount,
  parseRoot,
  requireAttr,
  type XmlElement,
  type XmlNode,
} from './xml-codec.ts';

export interface InterfaceAddress {
  address: string;
  prefix?: number;
}

export interface InterfaceIpv4 {
  dhcp: boolean;
  addresses: InterfaceAddress[];
  gateway?: string;
}

export interface InterfaceIpv6 extends InterfaceIpv4 {
  /** Stateless address autoconfiguration. */
  autoconf: boolean;
}

/** A host interface (netcf-style XML, virInterfaceGetXMLDesc). */
export interface InterfaceXml {
  /** ethernet, bridge, bond, vlan */
  type: string;
  name: string;
  mac?: string;
  /** none, onboot, hotplug */
  startMode?: string;
  mtu?: number;
  link?: { state?: string; speed?: number };
  ipv4?: InterfaceIpv4;
  ipv6?: InterfaceIpv6;
  /** The interfaces a bridge, bond or vlan is made of. */
  members: string[];
  vlanTag?: number;
}

function readProtocol(el: XmlElement): InterfaceIpv4 {
  return {
    dhcp: el.child('dhcp') !== undefined,
    addresses: el.elements('ip').map((ip) => ({
      address: requireAttr(ip, 'address'),
      prefix: optionalCount(ip.attr('prefix'), '<ip prefix>'),
    })),
    gateway: el.attrAt(['route'], 'gateway'),
  };
}

export function parseInterfaceXml(xml: string): InterfaceXml {
  const root = parseRoot(xml, 'interface');
  const protocols = root.elements('protocol');
  const v4 = protocols.find((p) => p.attr('family') === 'ipv4');
  const v6 = protocols.find((p) => p.attr('family') === 'ipv6');
  const link = root.child('link');
  const group = root.child('bridge') ?? root.child('bond') ?? root.child('vlan');
  return {
    type: requireAttr(root, 'type'),
    name: requireAttr(root, 'name'),
    mac: root.attrAt(['mac'], 'address'),
    startMode: root.attrAt(['start'], 'mode'),
    mtu: optionalCount(root.attrAt(['mtu'], 'size'), '<mtu size>'),
    link:
      link === undefined
        ? undefined
        : { state: link.attr('state'), speed: optionalCount(link.attr('speed'), '<link speed>') },
    ipv4: v4 === undefined ? undefined : readProtocol(v4),
    ipv6: v6 === undefined ? undefined : { ...readProtocol(v6), autoconf: v6.child('autoconf') !== undefined },
    members: group?.elements('interface').flatMap((i) => i.attr('name') ?? []) ?? [],
    vlanTag: optionalCount(root.attrAt(['vlan'], 'tag'), '<vlan tag>'),
  };
}

export interface EthernetInterfaceSpec {
  name: string;
  startMode: 'none' | 'onboot' | 'hotplug';
  mac?: string;
  mtu?: number;
  /** A static address (with an optional default gateway), or DHCP. */
  ipv4?: { address: string; prefix: number; gateway?: string } | { dhcp: true };
}

function ipv4Element(ipv4: NonNullable<EthernetInterfaceSpec['ipv4']>): XmlNode {
  if ('dhcp' in ipv4) return element('protocol', { family: 'ipv4' }, [element('dhcp')]);
  return element('protocol', { family: 'ipv4' }, [
    element('ip', { address: ipv4.address, prefix: ipv4.prefix }),
    ipv4.gateway !== undefined && element('route', { gateway: ipv4.gateway }),
  ]);
}

/** An ethernet host interface definition for virInterfaceDefineXML. */
export function buildEthernetInterfaceXml(spec: EthernetInterfaceSpec): string {
  return buildXml(
    element('interface', { type: 'ethernet', name: spec.name }, [
      element('start', { mode: spec.startMode }),
      spec.mac !== undefined && element('mac', { address: spec.mac }),
      spec.mtu !== undefined && element('mtu', { size: spec.mtu }),
      spec.ipv4 !== undefined && ipv4Element(spec.ipv4),
    ]),
  );
}
