import { describe, expect, it } from 'vitest';
import {
  broadcastOf,
  compareIpv4,
  formatIpv4,
  hostAddressProblem,
  inSubnet,
  ipv4Address,
  netmask,
  netmaskOfPrefix,
  networkOf,
  parseIpv4,
  prefix,
  prefixOfNetmask,
} from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

describe('ipv4Address', () => {
  it.each(['0.0.0.0', '192.168.122.1', '10.0.0.255', '255.255.255.255', '1.2.3.4'])('accepts %s', (address) => {
    expect(parsed(ipv4Address, address)).toBe(address);
  });

  it.each<[string, unknown, string]>([
    ['three numbers', '192.168.1', 'must be an IPv4 address: four numbers from 0 to 255 separated by "."'],
    ['five numbers', '1.2.3.4.5', 'must be an IPv4 address: four numbers'],
    ['an empty part', '1..3.4', 'must be an IPv4 address: four numbers'],
    ['a sign', '1.2.3.+4', 'must be an IPv4 address: four numbers'],
    ['a host name', 'localhost', 'must be an IPv4 address: four numbers'],
    ['CIDR notation', '10.0.0.1/24', 'must be an IPv4 address: four numbers'],
    ['spaces', ' 10.0.0.1', 'must be an IPv4 address: four numbers'],
    ['a leading zero', '192.168.01.1', 'must not write a number with leading zeros (01)'],
    ['a number above 255', '192.168.1.256', 'must have numbers from 0 to 255, not 256'],
    ['a number', 3232235777, 'must be an IPv4 address'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(ipv4Address, value)).toEqual({ path: '', message: expect.stringContaining(message) });
  });
});

describe('netmask', () => {
  it.each<[string, number]>([
    ['255.0.0.0', 8],
    ['255.255.0.0', 16],
    ['255.255.255.0', 24],
    ['255.255.255.252', 30],
    ['255.255.255.255', 32],
  ])('accepts %s (/%d)', (mask, bits) => {
    expect(parsed(netmask, mask)).toBe(mask);
    expect(prefixOfNetmask(mask)).toBe(bits);
    expect(netmaskOfPrefix(bits)).toBe(mask);
  });

  it.each<[string, string, string]>([
    ['holes in the ones', '255.0.255.0', 'must be a netmask of contiguous one bits, such as 255.255.255.0'],
    ['ones at the low end', '0.0.0.255', 'must be a netmask of contiguous one bits'],
    ['fewer than 8 bits', '254.0.0.0', 'must cover at least 8 bits (255.0.0.0 or longer), not 7'],
    ['no bits', '0.0.0.0', 'must cover at least 8 bits'],
    ['not an address', '255.255.255', 'must be a netmask such as 255.255.255.0'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(netmask, value)).toEqual({ path: '', message: expect.stringContaining(message) });
  });
});

describe('prefix', () => {
  it.each([8, 16, 24, 31, 32])('accepts %d', (bits) => {
    expect(parsed(prefix, bits)).toBe(bits);
  });

  it.each<[string, unknown, string]>([
    ['7', 7, 'must be an integer from 8 to 32'],
    ['33', 33, 'must be an integer from 8 to 32'],
    ['a fraction', 24.5, 'must be an integer from 8 to 32'],
    ['a string', '24', 'must be a prefix length (an integer from 8 to 32)'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(prefix, value)).toEqual({ path: '', message });
  });
});

describe('address arithmetic', () => {
  it('parses and formats', () => {
    expect(parseIpv4('192.168.1.1')).toBe(0xc0a80101);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('192.168.1')).toBeUndefined();
    expect(formatIpv4(0xc0a80101)).toBe('192.168.1.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it.each<[string, number, string, string]>([
    ['192.168.1.77', 24, '192.168.1.0', '192.168.1.255'],
    ['10.1.2.3', 8, '10.0.0.0', '10.255.255.255'],
    ['172.16.5.9', 20, '172.16.0.0', '172.16.15.255'],
    ['192.168.1.77', 32, '192.168.1.77', '192.168.1.77'],
    ['255.255.255.254', 31, '255.255.255.254', '255.255.255.255'],
  ])('%s/%d is in %s, broadcast %s', (address, bits, network, broadcast) => {
    expect(networkOf(address, bits)).toBe(network);
    expect(broadcastOf(address, bits)).toBe(broadcast);
    expect(inSubnet(address, network, bits)).toBe(true);
    expect(inSubnet(broadcast, address, bits)).toBe(true);
  });

  it('tells addresses outside a subnet', () => {
    expect(inSubnet('192.168.2.1', '192.168.1.0', 24)).toBe(false);
    expect(inSubnet('192.168.2.1', '192.168.1.0', 22)).toBe(true);
    expect(inSubnet('11.0.0.0', '10.0.0.0', 8)).toBe(false);
  });

  it('orders addresses numerically, not as text', () => {
    expect(compareIpv4('192.168.1.9', '192.168.1.10')).toBe(-1);
    expect(compareIpv4('10.0.0.1', '9.255.255.255')).toBe(1);
    expect(compareIpv4('10.0.0.1', '10.0.0.1')).toBe(0);
    expect(compareIpv4('255.255.255.255', '0.0.0.0')).toBe(1);
  });

  it('refuses what is not an address or a prefix', () => {
    expect(() => compareIpv4('10.0.0.1', 'x')).toThrow(RangeError);
    expect(() => networkOf('10.0.0.1', 33)).toThrow(RangeError);
    expect(prefixOfNetmask('255.0.255.0')).toBeUndefined();
    expect(prefixOfNetmask('nope')).toBeUndefined();
  });

  it('names the reserved addresses of a subnet', () => {
    expect(hostAddressProblem('192.168.1.0', 24)).toBe('is the network address of 192.168.1.0/24; give a host address');
    expect(hostAddressProblem('192.168.1.255', 24)).toBe(
      'is the broadcast address of 192.168.1.0/24; give a host address',
    );
    expect(hostAddressProblem('192.168.1.1', 24)).toBeUndefined();
    expect(hostAddressProblem('10.0.0.0', 31)).toBeUndefined();
    expect(hostAddressProblem('10.0.0.0', 32)).toBeUndefined();
  });
});
