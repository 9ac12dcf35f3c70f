import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { repoRoot } from '../support/built-entry.ts';
import { problemsOf } from '../support/config-problems.ts';

/** Runs src/index.ts (through tsx) with `env` until it exits; its exit code and output. */
async function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      VIRTQL_HOSTS: 'default=test:///default',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Exit 2, and stderr is exactly `lines`: no stack trace, no second line. */
function expectRefused(result: { code: number | null; stderr: string }, lines: Array<string | RegExp>) {
  expect(result.code, result.stderr).toBe(2);
  const got = result.stderr.trimEnd().split('\n');
  expect(got).toHaveLength(lines.length);
  lines.forEach((line, i) => {
    if (typeof line === 'string') expect(got[i]).toBe(line);
    else expect(got[i]).toMatch(line);
  });
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('the gateway refuses to start on a mistake, in one line per fault', () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-refusals-'));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('an invalid environment value: every one named, nothing started', async () => {
    expectRefused(await run({ LOG_LEVEL: 'verbose', REDIS_URL: 'localhost:6379' }), [
      'virtql: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, not "verbose"',
      'virtql: REDIS_URL: must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379',
    ]);
  }, 40_000);

  it('a port in use', async () => {
    expectRefused(await run({ PORT: String(busyPort), LOG_LEVEL: 'silent' }), [
      `virtql: port: 127.0.0.1:${busyPort} is already in use by another process`,
    ]);
  }, 40_000);

  it('a grant naming an identity no credential has, with the file it is in', async () => {
    const { sha256 } = createApiToken();
    const file = join(dir, 'virtql.yaml');
    await writeFile(
      file,
      `auth:\n  tokens:\n    - name: alice\n      sha256: ${sha256}\n  grants:\n    - identity: alcie\n      role: admin\n`,
    );
    expectRefused(await run({ VIRTQL_CONFIG: file }), [
      `virtql: auth.grants[0].identity: no token or certificate is named "alcie" (configured: alice) (in ${file})`,
    ]);
  }, 40_000);
});

describe('the environment', () => {
  it('accepts what is unset or valid and names every wrong value', () => {
    expect(readEnvironment({}).problems).toEqual([]);
    expect(readEnvironment({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty', UV_THREADPOOL_SIZE: '16' })).toEqual({
      environment: { logLevel: 'debug', logFormat: 'pretty' },
      problems: [],
    });
    expect(
      readEnvironment({ LOG_FORMAT: 'xml', UV_THREADPOOL_SIZE: '0', REDIS_URL: 'redis://' }).problems.map(
        (p) => p.path,
      ),
    ).toEqual(['LOG_FORMAT', 'REDIS_URL', 'UV_THREADPOOL_SIZE']);
  });
});

describe('grants checked against what exists', () => {
  const env = { VIRTQL_HOSTS: 'kvm1=test:///default,kvm2=test:///default' };
  const token = (name: string, groups: string[] = []) => ({ name, sha256: createApiToken().sha256, groups });

  it('refuse an unknown identity, group or role', async () => {
    const problems = await problemsOf(() =>
      resolveConfig(
        {
          auth: {
            tokens: [token('alice', ['ops'])],
            grants: [
              { identity: 'bob', role: 'viewer' },
              { group: 'opps', role: 'viewer' },
              { identity: 'alice', role: 'superuser' },
              { group: 'ops', role: 'operator' },
            ],
          },
        },
        { env },
      ),
    );
    expect(problems).toEqual([
      { path: 'auth.grants[2].role', reason: 'no role named "superuser"' },
      { path: 'auth.grants[0].identity', reason: 'no token or certificate is named "bob" (configured: alice)' },
      { path: 'auth.grants[1].group', reason: 'no token or certificate is in the group "opps" (configured: ops)' },
    ]);
  });

  it('accept identities and groups a JWT issuer may vouch for', async () => {
    const config = await resolveConfig(
      {
        auth: {
          jwt: { issuer: 'https://idp.test', audience: 'virtql', jwksUrl: 'https://idp.test/jwks' },
          grants: [
            { identity: 'carol', role: 'viewer' },
            { group: 'sre', role: 'operator' },
          ],
        },
      },
      { env },
    );
    expect(config.warnings).toEqual([]);
  });

  it('warn about a host glob that matches no configured host', async () => {
    const config = await resolveConfig(
      { auth: { tokens: [token('alice')], grants: [{ identity: 'alice', role: 'viewer', hosts: ['kvm*', 'lab-?'] }] } },
      { env },
    );
    expect(config.warnings).toEqual([
      { path: 'auth.grants[0].hosts[1]', reason: '"lab-?" matches no configured host (kvm1, kvm2)' },
    ]);
  });
});
