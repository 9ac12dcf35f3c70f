import { describe, expect, it } from 'vitest';
import { buildEthernetInterfaceXml } from '../../src/libvirt/xml/interface-xml.ts';
import { type EthernetInterfaceInput, ethernetInterfaceInput } from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

describe('ethernetInterfaceInput', () => {
  it.each<[string, object, EthernetInterfaceInput]>([
    ['a name alone: started on boot', { name: 'eth1' }, { name: 'eth1', startMode: 'onboot' }],
    ['hotplug', { name: 'eth1', startMode: 'hotplug' }, { name: 'eth1', startMode: 'hotplug' }],
    [
      'a static address, MAC in lower case',
      { name: 'eth1', startMode: 'none', mac: '52:54:00:AA:BB:CC', ipv4: { address: '10.0.0.5', prefix: 24 } },
      { name: 'eth1', startMode: 'none', mac: '52:54:00:aa:bb:cc', ipv4: { address: '10.0.0.5', prefix: 24 } },
    ],
    ['DHCP', { name: 'eth1', dhcp: true }, { name: 'eth1', startMode: 'onboot', dhcp: true }],
    [
      'DHCP off with a static address',
      { name: 'eth1', dhcp: false, ipv4: { address: '10.0.0.5', prefix: 8 } },
      { name: 'eth1', startMode: 'onboot', dhcp: false, ipv4: { address: '10.0.0.5', prefix: 8 } },
    ],
    [
      'a /32',
      { name: 'eth1', ipv4: { address: '10.0.0.0', prefix: 32 } },
      { name: 'eth1', startMode: 'onboot', ipv4: { address: '10.0.0.0', prefix: 32 } },
    ],
    [
      'GraphQL nulls, an empty ipv4 dropped',
      { name: 'eth1', startMode: null, mac: null, ipv4: { address: null, prefix: null }, dhcp: null },
      { name: 'eth1', startMode: 'onboot' },
    ],
  ])('accepts %s', (_label, input, expected) => {
    expect(parsed(ethernetInterfaceInput, input)).toEqual(expected);
  });

  it('gives the XML builder what it needs', () => {
    const out = parsed(ethernetInterfaceInput, { name: 'eth1', ipv4: { address: '10.0.0.5', prefix: 24 } });
    const xml = buildEthernetInterfaceXml({
      name: out.name,
      startMode: out.startMode,
      ...(out.ipv4 ? { ipv4: out.ipv4 } : out.dhcp ? { ipv4: { dhcp: true as const } } : {}),
    });
    expect(xml).toContain('10.0.0.5');
  });

  it.each<[string, unknown, string, string]>([
    ['no name', {}, 'name', 'is required'],
    ['a 16-character name', { name: 'a'.repeat(16) }, 'name', 'must be at most 15 characters'],
    ['a name with a slash', { name: 'eth/1' }, 'name', 'must not contain "/"'],
    [
      'an unknown start mode',
      { name: 'eth1', startMode: 'always' },
      'startMode',
      'must be one of none, onboot, hotplug',
    ],
    ['a bad MAC', { name: 'eth1', mac: '52:54:00:aa:bb' }, 'mac', 'must be six hex pairs separated by ":"'],
    ['a multicast MAC', { name: 'eth1', mac: '03:00:00:00:00:01' }, 'mac', 'is a multicast address'],
    [
      'a bad address',
      { name: 'eth1', ipv4: { address: '10.0.0', prefix: 24 } },
      'ipv4.address',
      'must be an IPv4 address',
    ],
    [
      'a prefix of 33',
      { name: 'eth1', ipv4: { address: '10.0.0.5', prefix: 33 } },
      'ipv4.prefix',
      'must be an integer from 8 to 32',
    ],
    [
      'a prefix of 7',
      { name: 'eth1', ipv4: { address: '10.0.0.5', prefix: 7 } },
      'ipv4.prefix',
      'must be an integer from 8 to 32',
    ],
    ['a prefix without address', { name: 'eth1', ipv4: { prefix: 24 } }, 'ipv4.prefix', 'prefix without address'],
    [
      'a prefix with a null address',
      { name: 'eth1', ipv4: { address: null, prefix: 24 } },
      'ipv4.prefix',
      'prefix without address: give ipv4.address as well',
    ],
    [
      'an address without prefix',
      { name: 'eth1', ipv4: { address: '10.0.0.5' } },
      'ipv4.prefix',
      'is required with ipv4.address (an integer from 8 to 32)',
    ],
    [
      'the network address',
      { name: 'eth1', ipv4: { address: '10.0.0.0', prefix: 24 } },
      'ipv4.address',
      'is the network address of 10.0.0.0/24',
    ],
    [
      'the broadcast address',
      { name: 'eth1', ipv4: { address: '10.0.0.255', prefix: 24 } },
      'ipv4.address',
      'is the broadcast address of 10.0.0.0/24',
    ],
    [
      'DHCP with a static address',
      { name: 'eth1', dhcp: true, ipv4: { address: '10.0.0.5', prefix: 24 } },
      'dhcp',
      'cannot be combined with a static ipv4.address',
    ],
    ['a string dhcp', { name: 'eth1', dhcp: 'yes' }, 'dhcp', 'must be true or false'],
    ['no object', 'eth1', '', 'must be an input object'],
  ])('rejects %s', (_label, value, path, message) => {
    const issue = firstIssue(ethernetInterfaceInput, value);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});
