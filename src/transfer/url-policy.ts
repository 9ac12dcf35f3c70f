import { BlockList, isIP } from 'node:net';
import type { ImagesConfig } from '../config/transfer-schema.ts';

/** One entry of images.allowedUrls, parsed. */
export interface UrlRule {
  protocol: string;
  hostname: string;
  port: string;
  path: string;
  /** Private, loopback and link-local addresses allowed (an IP literal prefix allows its own address anyway). */
  privateAddresses: boolean;
}

/**
 * Addresses an image URL may not reach unless its rule says so: loopback, private, shared,
 * link-local, documentation, multicast, reserved, and every IPv4-mapped or translated IPv6
 * address (they are IPv4 addresses in disguise).
 */
// Two lists: BlockList matches an IPv4 address against IPv6 rules as ::ffff:a.b.c.d, and every
// mapped address is refused.
const NOT_PUBLIC_V4 = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 3],
  ] as const)
    list.addSubnet(net, bits, 'ipv4');
  return list;
})();
const NOT_PUBLIC_V6 = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['::', 127],
    ['::ffff:0:0', 96],
    ['64:ff9b::', 96],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001::', 23],
    ['2001:db8::', 32],
    ['2002::', 16],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ] as const)
    list.addSubnet(net, bits, 'ipv6');
  return list;
})();

/** Whether `address` (an IP literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return family === 4 ? !NOT_PUBLIC_V4.check(address, 'ipv4') : !NOT_PUBLIC_V6.check(address, 'ipv6');
}

/** `[::1]` → `::1`: URL keeps IPv6 hosts in brackets. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** What a URL must be before any rule is looked at: http(s), no user name or password. */
export function urlProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are fetched';
  if (url.username !== '' || url.password !== '') return 'a URL with a user name or password is not fetched';
  return undefined;
}

/** images.allowedUrls parsed; an entry that is no http(s) URL is reported by `problems`. */
export function parseRules(config: ImagesConfig, problems: string[] = []): UrlRule[] {
  const rules: UrlRule[] = [];
  config.allowedUrls.forEach((entry, i) => {
    const { prefix, privateAddresses } = typeof entry === 'string' ? { prefix: entry, privateAddresses: false } : entry;
    let url: URL;
    try {
      url = new URL(prefix);
    } catch {
      problems.push(`images.allowedUrls[${i}]: not a URL`);
      return;
    }
    const problem = urlProblem(url) ?? (url.search || url.hash ? 'a prefix has no query or fragment' : undefined);
    if (problem) {
      problems.push(`images.allowedUrls[${i}]: ${problem}`);
      return;
    }
    rules.push({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname,
      privateAddresses,
    });
  });
  return rules;
}

/**
 * The rule a URL falls under: same scheme, host and port (as WHATWG URL normalises them: decimal
 * and hex IPv4, case, default ports), and a path under the rule's, at a segment boundary
 * (`/images` covers `/images/x`, not `/images-evil`). URL has resolved dot segments already.
 */
export function ruleFor(url: URL, rules: readonly UrlRule[]): UrlRule | undefined {
  if (urlProblem(url)) return undefined;
  return rules.find((r) => {
    if (r.protocol !== url.protocol || r.hostname !== url.hostname || r.port !== url.port) return false;
    const base = r.path.endsWith('/') ? r.path : `${r.path}/`;
    return url.pathname === r.path || url.pathname.startsWith(base);
  });
}

/** Whether a rule lets its URLs reach `address`: public, or allowed private, or the rule's own IP literal. */
export function addressAllowed(rule: UrlRule, address: string): boolean {
  return isPublicAddress(address) || rule.privateAddresses || bareHost(rule.hostname) === address;
}
