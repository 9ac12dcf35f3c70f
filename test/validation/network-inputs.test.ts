import { describe, expect, it } from 'vitest';
import { buildNetworkXml } from '../../src/libvirt/xml/network-xml.ts';
import { type SimpleNetworkInput, simpleNetworkInput } from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

const nat = { name: 'lan', ipAddress: '192.168.100.1', netmask: '255.255.255.0' };
const range = (start: string, end: string) => ({ ...nat, dhcpRange: { start, end } });

describe('simpleNetworkInput', () => {
  it('defaults to a persistent, autostarted NAT network', () => {
    expect(parsed(simpleNetworkInput, nat)).toEqual({
      ...nat,
      prefix: 24,
      forwardMode: 'nat',
      persistent: true,
      autostart: true,
    });
  });

  it.each<[string, object, object]>([
    ['an isolated network without addresses', { name: 'iso', forwardMode: 'none' }, { forwardMode: 'none' }],
    [
      'an isolated network with DHCP',
      { ...range('192.168.100.2', '192.168.100.254'), forwardMode: 'none' },
      { forwardMode: 'none', dhcpRange: { start: '192.168.100.2', end: '192.168.100.254' } },
    ],
    [
      'a routed network out of eth0',
      { ...nat, forwardMode: 'route', forwardDevice: 'eth0' },
      { forwardMode: 'route', forwardDevice: 'eth0' },
    ],
    [
      'a prefix in place of the netmask',
      { name: 'lan', ipAddress: '10.0.0.1', prefix: 8 },
      { netmask: '255.0.0.0', prefix: 8 },
    ],
    ['a transient network', { ...nat, persistent: false, autostart: false }, { persistent: false, autostart: false }],
    ['a DHCP domain', { ...nat, dhcpDomain: 'example.lan' }, { dhcpDomain: 'example.lan' }],
    [
      'a range right after the host address, up to the last host',
      range('192.168.100.2', '192.168.100.254'),
      { dhcpRange: { start: '192.168.100.2', end: '192.168.100.254' } },
    ],
    [
      'a range below the host address',
      { ...range('192.168.100.10', '192.168.100.99'), ipAddress: '192.168.100.100' },
      { dhcpRange: { start: '192.168.100.10', end: '192.168.100.99' } },
    ],
    [
      'a range compared as numbers, not text',
      range('192.168.100.9', '192.168.100.10'),
      { dhcpRange: { start: '192.168.100.9', end: '192.168.100.10' } },
    ],
    [
      'GraphQL nulls',
      { ...nat, forwardDevice: null, dhcpRange: null, dhcpDomain: null, prefix: null, persistent: null },
      { persistent: true },
    ],
    ['an empty DHCP range', { ...nat, dhcpRange: { start: null, end: null } }, { prefix: 24 }],
  ])('accepts %s', (_label, input, expected) => {
    const out = parsed(simpleNetworkInput, input);
    expect(out).toMatchObject(expected);
    if (!('dhcpRange' in expected)) expect(out).not.toHaveProperty('dhcpRange');
  });

  it('gives the XML builder what it needs', () => {
    const out: SimpleNetworkInput = parsed(simpleNetworkInput, range('192.168.100.2', '192.168.100.254'));
    const xml = buildNetworkXml({
      name: out.name,
      forwardMode: out.forwardMode,
      ...(out.ipAddress !== undefined && { ip: { address: out.ipAddress, prefix: out.prefix } }),
      ...(out.dhcpRange && { dhcpRange: { start: out.dhcpRange.start, end: out.dhcpRange.end } }),
    });
    expect(xml).toContain('192.168.100.254');
  });

  it.each<[string, unknown, string, string]>([
    // Fields on their own
    ['a bad name', { ...nat, name: 'my net' }, 'name', 'may contain only letters, digits, "-", "_" and "."'],
    ['an unknown forward mode', { ...nat, forwardMode: 'bridge' }, 'forwardMode', 'must be one of none, nat, route'],
    ['a bad ip address', { ...nat, ipAddress: '192.168.100.300' }, 'ipAddress', 'must have numbers from 0 to 255'],
    ['a non-contiguous netmask', { ...nat, netmask: '255.0.255.0' }, 'netmask', 'contiguous one bits'],
    ['a /7 prefix', { name: 'lan', ipAddress: '10.0.0.1', prefix: 7 }, 'prefix', 'must be an integer from 8 to 32'],
    ['a bad forward device', { ...nat, forwardDevice: 'eth 0' }, 'forwardDevice', 'must not contain'],
    ['a bad DHCP domain', { ...nat, dhcpDomain: 'my_lan' }, 'dhcpDomain', 'must be a DNS domain name'],
    [
      'a bad DHCP start',
      range('192.168.100.02', '192.168.100.9'),
      'dhcpRange.start',
      'must not write a number with leading zeros',
    ],
    ['a string persistent', { ...nat, persistent: 'yes' }, 'persistent', 'must be true or false'],
    // Forwarding needs an address
    ['NAT without anything', { name: 'lan' }, 'ipAddress', 'is required when forwardMode is nat'],
    [
      'NAT without a netmask',
      { name: 'lan', ipAddress: '192.168.100.1' },
      'netmask',
      'is required when forwardMode is nat (or give prefix)',
    ],
    [
      'route without an address',
      { name: 'lan', forwardMode: 'route', netmask: '255.255.255.0' },
      'ipAddress',
      'is required when forwardMode is route',
    ],
    // Pieces that need ipAddress
    [
      'a netmask without ipAddress',
      { name: 'iso', forwardMode: 'none', netmask: '255.255.255.0' },
      'netmask',
      'is given without ipAddress',
    ],
    [
      'a prefix without ipAddress',
      { name: 'iso', forwardMode: 'none', prefix: 24 },
      'prefix',
      'is given without ipAddress',
    ],
    [
      'a DHCP range without ipAddress',
      { name: 'iso', forwardMode: 'none', dhcpRange: { start: '10.0.0.2', end: '10.0.0.9' } },
      'dhcpRange',
      'needs ipAddress and netmask',
    ],
    [
      'an isolated address without a netmask',
      { name: 'iso', forwardMode: 'none', ipAddress: '10.0.0.1' },
      'netmask',
      'is required with ipAddress (or give prefix)',
    ],
    ['both netmask and prefix', { ...nat, prefix: 24 }, 'prefix', 'give either netmask or prefix, not both'],
    [
      'forwardDevice on an isolated network',
      { ...nat, forwardMode: 'none', forwardDevice: 'eth0' },
      'forwardDevice',
      'is used only when forwardMode is nat or route',
    ],
    // The host address itself
    [
      'the network address as ipAddress',
      { ...nat, ipAddress: '192.168.100.0' },
      'ipAddress',
      'is the network address of 192.168.100.0/24',
    ],
    [
      'the broadcast address as ipAddress',
      { ...nat, ipAddress: '192.168.100.255' },
      'ipAddress',
      'is the broadcast address of 192.168.100.0/24',
    ],
    // DHCP range
    [
      'start without end',
      { ...nat, dhcpRange: { start: '192.168.100.2' } },
      'dhcpRange.end',
      'is required with dhcpRange.start',
    ],
    [
      'end without start',
      { ...nat, dhcpRange: { start: null, end: '192.168.100.9' } },
      'dhcpRange.start',
      'is required with dhcpRange.end',
    ],
    [
      'start outside the subnet',
      range('192.168.101.2', '192.168.100.9'),
      'dhcpRange.start',
      'must be inside 192.168.100.0/24',
    ],
    [
      'end outside the subnet',
      range('192.168.100.2', '192.168.101.9'),
      'dhcpRange.end',
      'must be inside 192.168.100.0/24',
    ],
    [
      'start on the network address',
      range('192.168.100.0', '192.168.100.9'),
      'dhcpRange.start',
      'must not be the network address 192.168.100.0',
    ],
    [
      'end on the broadcast address',
      range('192.168.100.2', '192.168.100.255'),
      'dhcpRange.end',
      'must not be the broadcast address 192.168.100.255',
    ],
    [
      'start on ipAddress',
      range('192.168.100.1', '192.168.100.9'),
      'dhcpRange.start',
      'must not be ipAddress 192.168.100.1 itself',
    ],
    [
      'end on ipAddress',
      { ...range('192.168.100.2', '192.168.100.50'), ipAddress: '192.168.100.50' },
      'dhcpRange.end',
      'must not be ipAddress 192.168.100.50 itself',
    ],
    [
      'start after end',
      range('192.168.100.200', '192.168.100.100'),
      'dhcpRange.end',
      'must be above dhcpRange.start (192.168.100.200)',
    ],
    ['start equal to end', range('192.168.100.7', '192.168.100.7'), 'dhcpRange.end', 'must be above dhcpRange.start'],
    ['start after end by number, not text', range('192.168.100.10', '192.168.100.9'), 'dhcpRange.end', 'must be above'],
    ['no object', undefined, '', 'is required'],
  ])('rejects %s', (_label, value, path, message) => {
    const issue = firstIssue(simpleNetworkInput, value);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});
