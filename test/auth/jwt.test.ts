import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.ts';
import { authSchema } from '../../src/config/security-schema.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { jwtIssuer } from './auth-clients.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'virtql';
const HOSTS = '{ hosts { name } }';

const idp = await jwtIssuer({ issuer: ISSUER, audience: AUDIENCE, kid: 'idp-1' });
/** Another key pair that claims the IdP's key id: its signatures must not verify. */
const impostor = await jwtIssuer({ issuer: ISSUER, audience: AUDIENCE, kid: 'idp-1' });
const unknownKey = await jwtIssuer({ issuer: ISSUER, audience: AUDIENCE, kid: 'idp-2' });

describe('JWT signed by a key served from a JWKS endpoint', () => {
  let jwks: Server;
  let jwksUrl: string;
  let jwksRequests = 0;
  let gw: TestGateway;
  let authConfig: ReturnType<typeof authSchema.parse>;

  const ask = async (jwt: string) => {
    const res = await gw.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ query: HOSTS }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: { code: string } }> },
    };
  };

  beforeAll(async () => {
    const body = JSON.stringify({
      keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: idp.alg, use: 'sig' }],
    });
    jwks = createServer((_, res) => {
      jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const auth = {
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl },
      grants: [
        { identity: 'jwt:ana', role: 'admin' },
        { group: 'ops', role: 'admin' },
      ],
    };
    authConfig = authSchema.parse(auth);
    gw = await startGateway({ default: 'test:///default' }, 'default', { config: { auth } });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it('accepts a valid token, fetching the keys once for many requests', async () => {
    const jwt = await idp.sign({ sub: 'ana' });
    for (let i = 0; i < 20; i += 1) {
      expect(await ask(jwt)).toEqual({
        status: 200,
        body: { extensions: { cost: expect.any(Object) }, data: { hosts: [{ name: 'default' }] } },
      });
    }
    expect(jwksRequests).toBe(1);
  });

  const refused = (code: string, message: RegExp) => ({
    status: 401,
    body: { errors: [{ message: expect.stringMatching(message), extensions: { code } }] },
  });

  it('refuses another audience or issuer', async () => {
    expect(await ask(await idp.sign({ sub: 'ana' }, { audience: 'grafana' }))).toEqual(
      refused('INVALID_TOKEN', /ERR_JWT_CLAIM_VALIDATION_FAILED/),
    );
    expect(await ask(await idp.sign({ sub: 'ana' }, { issuer: 'https://evil.test' }))).toEqual(
      refused('INVALID_TOKEN', /ERR_JWT_CLAIM_VALIDATION_FAILED/),
    );
  });

  it('refuses a bad signature: another key under the same key id, or a payload changed after signing', async () => {
    expect(await ask(await impostor.sign({ sub: 'ana' }))).toEqual(
      refused('INVALID_TOKEN', /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/),
    );
    const [header, , signature] = (await idp.sign({ sub: 'bo' })).split('.');
    const payload = Buffer.from(
      JSON.stringify({ sub: 'ana', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url');
    expect(await ask(`${header}.${payload}.${signature}`)).toEqual(
      refused('INVALID_TOKEN', /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/),
    );
  });

  it('refuses a key the JWKS does not publish, an unsigned token and an HMAC one keyed with the public key', async () => {
    expect(await ask(await unknownKey.sign({ sub: 'ana' }))).toEqual(
      refused('INVALID_TOKEN', /ERR_JWKS_NO_MATCHING_KEY/),
    );
    const unsigned = new UnsecuredJWT({ sub: 'ana' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m');
    expect(await ask(unsigned.encode())).toEqual(refused('INVALID_TOKEN', /malformed/));
    const hmac = await new SignJWT({ sub: 'ana' })
      .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(idp.publicKey))));
    expect(await ask(hmac)).toEqual(refused('INVALID_TOKEN', /not valid/));
  });

  it('refuses an expired token with TOKEN_EXPIRED', async () => {
    const expired = await idp.sign({ sub: 'ana' }, { expiresIn: Math.floor(Date.now() / 1000) - 30 });
    expect(await ask(expired)).toEqual(refused('TOKEN_EXPIRED', /expired/));
  });

  it('refuses a token it accepted before once it has expired', async () => {
    const jwt = await idp.sign({ sub: 'ana' }, { expiresIn: '1m' });
    expect((await ask(jwt)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
    try {
      expect(await ask(jwt)).toEqual(refused('TOKEN_EXPIRED', /expired/));
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a token without an expiry: it could never be revoked', async () => {
    const forever = await new SignJWT({ sub: 'ana' })
      .setProtectedHeader({ alg: idp.alg, kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(idp.privateKey);
    expect(await ask(forever)).toEqual(refused('INVALID_TOKEN', /ERR_JWT_CLAIM_VALIDATION_FAILED/));
  });

  it('a JWT subject never takes the grants of a token or certificate of the same name', async () => {
    const service = new AuthService(
      authSchema.parse({
        jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl },
        tokens: [{ name: 'ci', sha256: 'a'.repeat(64) }],
        grants: [
          { identity: 'ci', role: 'admin' },
          { identity: 'jwt:ana', role: 'viewer' },
        ],
      }),
    );
    const impostor = await service.authenticate({ authorization: `Bearer ${await idp.sign({ sub: 'ci' })}` });
    expect(impostor).toMatchObject({ name: 'ci', kind: 'jwt' });
    expect(impostor.seesHost('default')).toBe(false);
    const ana = await service.authenticate({ authorization: `Bearer ${await idp.sign({ sub: 'ana' })}` });
    expect(ana.can('VM.Audit', 'default', 'x')).toBe(true);
    expect(ana.can('VM.PowerMgmt', 'default', 'x')).toBe(false);
  });

  it('refuses a token that names no identity', async () => {
    expect(await ask(await idp.sign({ email: 'ana@example.test' }))).toEqual(refused('INVALID_TOKEN', /no sub claim/));
  });

  it('maps the groups claim to the grants of those groups', async () => {
    const service = new AuthService(authConfig);
    const as = async (claims: Record<string, unknown>) =>
      service.authenticate({ authorization: `Bearer ${await idp.sign(claims)}` });
    const member = await as({ sub: 'carl', groups: ['staff', 'ops'] });
    expect(member).toMatchObject({ name: 'carl', kind: 'jwt', groups: ['staff', 'ops'] });
    expect(member.can('VM.PowerMgmt', 'default', 'test')).toBe(true);
    expect((await as({ sub: 'carl', groups: 'ops' })).can('Sys.Audit', 'default')).toBe(true);
    const outsider = await as({ sub: 'dora', groups: ['staff'] });
    expect(outsider.can('VM.Audit', 'default', 'test')).toBe(false);
    expect(outsider.seesHost('default')).toBe(false);
    expect(await ask(await idp.sign({ sub: 'carl', groups: ['ops'] }))).toEqual({
      status: 200,
      body: { extensions: { cost: expect.any(Object) }, data: { hosts: [{ name: 'default' }] } },
    });
    // Authenticated, but no grant names a host for it: the host is absent, as if unconfigured.
    expect(await ask(await idp.sign({ sub: 'dora', groups: ['staff'] }))).toEqual({
      status: 200,
      body: { extensions: { cost: expect.any(Object) }, data: { hosts: [] } },
    });
  });

  it('reads the identity and groups from the claims the config names', async () => {
    const service = new AuthService(
      authSchema.parse({
        jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, identityClaim: 'email', groupsClaim: 'roles' },
        grants: [{ group: 'virt-admins', role: 'operator', hosts: ['kvm*'] }],
      }),
    );
    const identity = await service.authenticate({
      authorization: `Bearer ${await idp.sign({ sub: 'x1', email: 'eve@example.test', roles: ['virt-admins'] })}`,
    });
    expect(identity.name).toBe('eve@example.test');
    expect(identity.can('VM.PowerMgmt', 'kvm1', 'web')).toBe(true);
    expect(identity.can('VM.PowerMgmt', 'lab', 'web')).toBe(false);
    expect(identity.can('VM.Allocate', 'kvm1', 'web')).toBe(false);
  });
});
