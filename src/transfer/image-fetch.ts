import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { GraphQLError } from 'graphql';
import { addressAllowed, bareHost, ruleFor, type UrlRule, urlProblem } from './url-policy.ts';

export interface FetchOptions {
  rules: readonly UrlRule[];
  maxRedirects: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface FetchedImage {
  body: IncomingMessage;
  /** Content-Length; null when the server did not say. */
  size: bigint | null;
  /** Where it came from after redirects. */
  url: string;
}

function refused(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNSAFE_INPUT', field: 'url' } });
}

function failed(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'CONNECTION_FAILED', field: 'url' } });
}

/** The addresses a URL's host stands for, each allowed by its rule, or a refusal. */
async function checkedAddress(url: URL, rule: UrlRule): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(url.hostname);
  const found =
    isIP(host) !== 0
      ? [{ address: host, family: isIP(host) }]
      : await lookup(host, { all: true, verbatim: true }).catch((e: NodeJS.ErrnoException) => {
          throw failed(`cannot resolve ${host}: ${e.code ?? e.message}`);
        });
  // Every address must pass: a name that resolves to one public and one private address is refused.
  const bad = found.find((a) => !addressAllowed(rule, a.address));
  if (bad) throw refused(`${url.origin} resolves to ${bad.address}, a private, loopback or reserved address`);
  const first = found[0];
  if (!first) throw failed(`${host} has no address`);
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * GETs an image under images.allowedUrls. Each hop (the URL, then every redirect) must fall under
 * a rule; its host is resolved here, every address checked, and the connection goes to the
 * checked address (a lookup that answers only it), so a second DNS answer cannot move it
 * elsewhere (DNS rebinding). TLS still verifies the certificate against the URL's host name.
 */
export async function fetchImage(start: string, options: FetchOptions): Promise<FetchedImage> {
  let url: URL;
  try {
    url = new URL(start);
  } catch {
    throw new GraphQLError('url: not a URL', { extensions: { code: 'INVALID_INPUT', field: 'url' } });
  }
  for (let hop = 0; ; hop++) {
    const problem = urlProblem(url);
    if (problem) throw refused(`${url.href}: ${problem}`);
    const rule = ruleFor(url, options.rules);
    if (!rule) throw refused(`${url.href} is not under images.allowedUrls`);
    const { address, family } = await checkedAddress(url, rule);
    const pinned: LookupFunction = (_host, opts, callback) => {
      if ((opts as { all?: boolean }).all) (callback as (e: null, a: unknown[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const response = await get(url, pinned, options);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location !== undefined) {
      response.destroy();
      if (hop >= options.maxRedirects) throw refused(`more than ${options.maxRedirects} redirects`);
      try {
        url = new URL(response.headers.location, url);
      } catch {
        throw failed(`${url.href} redirects to something that is not a URL`);
      }
      continue;
    }
    if (status !== 200) {
      response.destroy();
      throw failed(`${url.href} answered HTTP ${status}`);
    }
    const length = response.headers['content-length'];
    return {
      body: response,
      size: length !== undefined && /^\d+$/.test(length) ? BigInt(length) : null,
      url: url.href,
    };
  }
}

function get(url: URL, pinned: LookupFunction, options: FetchOptions): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'GET',
        lookup: pinned,
        signal: options.signal,
        headers: { 'accept-encoding': 'identity', 'user-agent': 'virtql' },
        timeout: options.timeoutMs,
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(failed(`${url.origin} did not answer within ${options.timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof GraphQLError ? e : failed(`${url.origin}: ${e.message}`)));
    req.end();
  });
}
