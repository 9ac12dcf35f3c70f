import { isLoopback } from '../config/security.ts';

/** `localhost:4000`, `127.0.0.1`, `[::1]:4000` → whether the name is a loopback one. */
export function isLoopbackHost(host: string | null | undefined): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  return isLoopback(name.replace(/^\[|\]$/g, ''));
}

/**
 * Why a Host is refused without identities, or undefined when it is a loopback name. Every caller
 * is then an admin, and only loopback keeps strangers out. A web page whose own name an attacker
 * re-points at 127.0.0.1 (DNS rebinding) is same-origin with itself, so the Origin check lets it
 * pass; its requests still carry its own name as Host, refused here.
 */
export function loopbackRefusal(host: string | null | undefined): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return `host ${host ?? '(none)'} is not a loopback name: without identities the gateway answers only to localhost, 127.0.0.1 and [::1]`;
}
