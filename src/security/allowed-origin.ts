/**
 * Whether a browser's Origin may call the gateway: the page came from the gateway itself (its
 * host and port are the request's Host, as a reverse proxy that keeps Host passes them), or the
 * operator listed it in `cors.origins`. `null` (sandboxed frames, file: pages) never is.
 */
export function isAllowedOrigin(origin: string, host: string | null | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return host != null && parsed.host === host.toLowerCase();
}
