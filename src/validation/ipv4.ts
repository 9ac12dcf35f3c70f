import { z } from 'zod';
import { mustBe, reasonCheck } from './graphql-input.ts';

/** Networks and interface addresses: a /8 at the widest, a single host at the narrowest. */
export const MIN_PREFIX = 8;
export const MAX_PREFIX = 32;

const DOTTED_QUAD = 'four numbers from 0 to 255 separated by ".", e.g. 192.168.122.1';

/** Why `text` is not a dotted-quad IPv4 address, or undefined when it is one. */
export function ipv4Problem(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) {
    return `must be an IPv4 address: ${DOTTED_QUAD}`;
  }
  const padded = parts.find((part) => part.length > 1 && part.startsWith('0'));
  if (padded !== undefined) return `must not write a number with leading zeros (${padded})`;
  const large = parts.find((part) => Number(part) > 255);
  if (large !== undefined) return `must have numbers from 0 to 255, not ${large}`;
  return undefined;
}

/** The address as an unsigned 32-bit number, or undefined when `text` is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  if (ipv4Problem(text) !== undefined) return undefined;
  return text.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

/** The dotted quad of an unsigned 32-bit number. */
export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function numberOf(address: string): number {
  const value = parseIpv4(address);
  if (value === undefined) throw new RangeError(`not an IPv4 address: ${address}`);
  return value;
}

function maskOf(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`not a prefix length: ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The prefix length of a netmask of contiguous one bits (255.255.255.0 → 24), or undefined. */
export function prefixOfNetmask(netmask: string): number | undefined {
  const value = parseIpv4(netmask);
  if (value === undefined) return undefined;
  const inverted = ~value >>> 0;
  // The host part of a netmask is 2^n - 1: all ones below the network bits.
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

/** The netmask of a prefix length (24 → 255.255.255.0). */
export function netmaskOfPrefix(prefix: number): string {
  return formatIpv4(maskOf(prefix));
}

/** The network address of `address`'s subnet (192.168.1.77, 24 → 192.168.1.0). */
export function networkOf(address: string, prefix: number): string {
  return formatIpv4((numberOf(address) & maskOf(prefix)) >>> 0);
}

/** The broadcast address of `address`'s subnet (192.168.1.77, 24 → 192.168.1.255). */
export function broadcastOf(address: string, prefix: number): string {
  return formatIpv4((numberOf(address) | ~maskOf(prefix)) >>> 0);
}

/** Whether `address` lies in the subnet `network`/`prefix` (`network` may be any address of it). */
export function inSubnet(address: string, network: string, prefix: number): boolean {
  return networkOf(address, prefix) === networkOf(network, prefix);
}

/** Orders addresses numerically: negative when a < b, 0 when equal, positive when a > b. */
export function compareIpv4(a: string, b: string): number {
  return Math.sign(numberOf(a) - numberOf(b));
}

/** A dotted-quad IPv4 address: 192.168.122.1 (no leading zeros, each number 0–255). */
export const ipv4Address = z
  .string({ error: mustBe(`an IPv4 address (a string of ${DOTTED_QUAD})`) })
  .superRefine(reasonCheck(ipv4Problem));

function netmaskProblem(text: string): string | undefined {
  if (ipv4Problem(text) !== undefined) return 'must be a netmask such as 255.255.255.0';
  const prefix = prefixOfNetmask(text);
  if (prefix === undefined) return 'must be a netmask of contiguous one bits, such as 255.255.255.0';
  if (prefix < MIN_PREFIX) return `must cover at least ${MIN_PREFIX} bits (255.0.0.0 or longer), not ${prefix}`;
  return undefined;
}

/** A netmask of 8 to 32 contiguous one bits: 255.255.255.0. Convert it with `prefixOfNetmask`. */
export const netmask = z
  .string({ error: mustBe('a netmask (a string such as 255.255.255.0)') })
  .superRefine(reasonCheck(netmaskProblem));

const PREFIX_RULE = `must be an integer from ${MIN_PREFIX} to ${MAX_PREFIX}`;

/** A prefix length from 8 to 32: the 24 of 192.168.1.0/24. */
export const prefix = z
  .number({ error: mustBe(`a prefix length (an integer from ${MIN_PREFIX} to ${MAX_PREFIX})`) })
  .int({ error: PREFIX_RULE })
  .min(MIN_PREFIX, PREFIX_RULE)
  .max(MAX_PREFIX, PREFIX_RULE);

/**
 * Why `address` cannot be a host's own address on its /`prefix` subnet: the network and
 * broadcast addresses are reserved (except on /31 and /32, which have neither).
 */
export function hostAddressProblem(address: string, prefix: number): string | undefined {
  if (prefix > 30) return undefined;
  const subnet = `${networkOf(address, prefix)}/${prefix}`;
  if (address === networkOf(address, prefix)) return `is the network address of ${subnet}; give a host address`;
  if (address === broadcastOf(address, prefix)) return `is the broadcast address of ${subnet}; give a host address`;
  return undefined;
}
