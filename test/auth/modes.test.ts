import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { loadConfig, resolveConfig } from '../../src/config/config.ts';
import { problemsOf } from '../support/config-problems.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-modes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const token = { name: 'ci', sha256: createApiToken().sha256 };

describe('modes: where the gateway listens, and with whom', () => {
  it('without identities it listens on 127.0.0.1 only', async () => {
    expect((await loadConfig({ env: {} })).host).toBe('127.0.0.1');
    // Grants alone are no identities; one naming an identity no credential has is refused outright.
    expect((await resolveConfig({ auth: { roles: { reader: ['Host.Audit'] } } })).host).toBe('127.0.0.1');
  });

  it.each([
    ['tokens', { tokens: [token] }],
    ['a JWT issuer', { jwt: { issuer: 'https://idp.test', audience: 'virtql', jwksUrl: 'https://idp.test/jwks' } }],
  ])('with %s it listens on every interface by default', async (_, auth) => {
    expect((await resolveConfig({ auth })).host).toBe('0.0.0.0');
  });

  it.each(['0.0.0.0', '::', '192.0.2.10', 'kvm-gw.example.org'])(
    'refuses %s without identities, saying how to fix it',
    async (host) => {
      const problems = await problemsOf(() => resolveConfig({ host }));
      expect(problems).toEqual([
        {
          path: 'host',
          reason: expect.stringMatching(
            new RegExp(
              `^listening on ${host.replaceAll('.', '\\.')} without authentication is refused: .*npm run token -- NAME.*insecure: true`,
            ),
          ),
        },
      ]);
      const error = await resolveConfig({ host }).catch((e: unknown) => e);
      expect(String((error as Error).message)).toContain('host: listening on');
    },
  );

  it('allows a non-loopback address without identities when the config says insecure: true', async () => {
    const config = await resolveConfig({ host: '0.0.0.0', insecure: true });
    expect(config.host).toBe('0.0.0.0');
    expect(config.security.insecure).toBe(true);
  });

  it.each(['127.0.0.1', '127.0.0.53', '::1', 'localhost'])('allows loopback %s without identities', async (host) => {
    expect((await resolveConfig({ host })).host).toBe(host);
  });

  it('allows any address with identities', async () => {
    expect((await resolveConfig({ host: '0.0.0.0', auth: { tokens: [token] } })).host).toBe('0.0.0.0');
  });

  it('refuses grants naming a role that does not exist, and roles built of unknown privileges', async () => {
    const problems = await problemsOf(() =>
      resolveConfig({
        auth: {
          tokens: [token],
          roles: { 'power-user': ['operator', 'VM.Config'], broken: ['VM.Teleport'] },
          grants: [
            { identity: 'ci', role: 'power-user' },
            { identity: 'ci', role: 'superuser' },
          ],
        },
      }),
    );
    expect(problems).toEqual([
      { path: 'auth.roles.broken', reason: '"VM.Teleport" is neither a privilege nor a role' },
      { path: 'auth.grants[1].role', reason: 'no role named "superuser"' },
    ]);
  });

  it('refuses client certificates without tls.clientCa to verify them', async () => {
    const fingerprint256 = 'AB:'.repeat(31).concat('AB');
    const problems = await problemsOf(() =>
      resolveConfig({ auth: { certificates: [{ name: 'laptop', fingerprint256 }] } }),
    );
    expect(problems).toEqual([
      { path: 'auth.certificates', reason: 'need tls.clientCa to verify client certificates' },
    ]);
  });

  it('reads all of it from a YAML file, reporting every problem at once', async () => {
    const path = join(dir, 'virtql.yaml');
    await writeFile(
      path,
      `host: 0.0.0.0
auth:
  grants:
    - identity: nobody
      role: root
`,
    );
    const problems = await problemsOf(() => loadConfig({ env: {}, file: path }));
    expect(problems.map((p) => p.path)).toEqual(['host', 'auth.grants[0].role', 'auth.grants[0].identity']);
  });
});
