import { request as httpsRequest } from 'node:https';
import { type Client, createClient } from 'graphql-ws';
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import pino from 'pino';
import WebSocket, { type ClientOptions } from 'ws';
import { type App, buildApp } from '../../src/app.ts';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { deferred } from '../support/test-host.ts';

/** An app listening on a free port of 127.0.0.1 with a security configuration (`auth`, `tls`…) as in virtql.yaml. */
export interface SecuredGateway {
  app: App;
  registry: HostRegistry;
  /** http(s)://…:PORT/graphql */
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function listenSecured(
  hosts: Record<string, string>,
  config: Record<string, unknown>,
  baseDir?: string,
): Promise<SecuredGateway> {
  const resolved = await resolveConfig(config, {
    env: {
      VIRTQL_HOSTS: Object.entries(hosts)
        .map(([name, uri]) => `${name}=${uri}`)
        .join(','),
      VIRTQL_DEFAULT_HOST: Object.keys(hosts)[0],
    },
    ...(baseDir ? { baseDir } : {}),
  });
  const logger = pino({ level: 'silent' });
  const registry = new HostRegistry(resolved, { logger, readyTimeoutMs: 2_000 });
  const app = buildApp({ registry, logger, security: resolved.security, port: 0, hostname: '127.0.0.1' });
  const url = (await app.start()).replace('//localhost:', '//127.0.0.1:');
  return { app, registry, url, wsUrl: url.replace(/^http/, 'ws'), close: () => app.stop() };
}

/** A token as `npm run token` makes it, with the config entry that admits it. */
export function apiToken(name: string, groups: string[] = []) {
  const { secret, sha256 } = createApiToken();
  return { name, secret, bearer: `Bearer ${secret}`, entry: { name, sha256, groups } };
}

/** The way a refusal reads over each transport: HTTP status and `extensions.code`, or a WebSocket close. */
export interface Refusal {
  status?: number;
  code?: string;
  message?: string;
}

export async function postGraphQL(
  url: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

export interface WsConnection {
  client: Client;
  /** Settles when the socket closes, with the server's close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once the server has acknowledged the connection (credentials accepted). */
  connected: Promise<void>;
}

/** A graphql-ws client sending `authorization` in connectionParams; `socketOptions` reach ws (TLS, headers). */
export function wsConnect(wsUrl: string, authorization?: string, socketOptions: ClientOptions = {}): WsConnection {
  const closed = deferred<{ code: number; reason: string }>();
  const connected = deferred<void>();
  class Socket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, socketOptions);
    }
  }
  const client = createClient({
    url: wsUrl,
    webSocketImpl: Socket,
    retryAttempts: 0,
    lazy: true,
    ...(authorization === undefined ? {} : { connectionParams: { authorization } }),
    on: {
      connected: () => connected.resolve(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closed.resolve({ code, reason: String(reason) });
        connected.reject(new Error(`closed ${code} ${reason}`));
      },
    },
  });
  connected.promise.catch(() => undefined);
  return { client, closed: closed.promise, connected: connected.promise };
}

/** Runs one query over graphql-ws and resolves with its result (or rejects with the close event). */
export function wsQuery(client: Client, query: string): Promise<{ data?: unknown; errors?: unknown }> {
  return new Promise((resolve, reject) => {
    let result: { data?: unknown; errors?: unknown } = {};
    client.subscribe({ query }, { next: (r) => (result = r as never), error: reject, complete: () => resolve(result) });
  });
}

/** An issuer's key pair made in the test, and JWTs signed with it. */
export async function jwtIssuer(options: { issuer: string; audience: string; kid?: string; alg?: string }) {
  const alg = options.alg ?? 'ES256';
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const sign = (
    claims: JWTPayload,
    overrides: { issuer?: string; audience?: string; expiresIn?: string | number } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, ...(options.kid ? { kid: options.kid } : {}) })
      .setIssuer(overrides.issuer ?? options.issuer)
      .setAudience(overrides.audience ?? options.audience)
      .setIssuedAt()
      .setExpirationTime(overrides.expiresIn ?? '10m')
      .sign(privateKey);
  return { alg, publicKey, privateKey, publicPem: await exportSPKI(publicKey), sign };
}

/** A POST over HTTPS with optional client certificate (fetch cannot present one). */
export function httpsPost(
  url: string,
  query: string,
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer },
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        ...tls,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
