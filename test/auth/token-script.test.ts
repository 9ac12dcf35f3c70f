import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway, type TestGateway } from '../support/gateway.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** `npm run token -- ...args` as an operator types it: stdout, stderr and the exit code. */
async function token(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', 'token', '--', ...args], { cwd: root });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const failed = e as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe('npm run token -- NAME', () => {
  let printed: { stdout: string; code: number };
  let gateway: TestGateway | undefined;

  beforeAll(async () => {
    printed = await token('ci-deploy');
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('prints a vq_ secret once, and config lines holding its SHA-256 digest, not the secret', () => {
    expect(printed.code).toBe(0);
    const secrets = printed.stdout.match(/vq_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g) ?? [];
    const secret = secrets[0] as string;
    expect(secret).toBeDefined();
    const config = parseYaml(printed.stdout.slice(printed.stdout.indexOf('\nauth:\n'))) as {
      auth: { tokens: Array<{ name: string; sha256: string }>; grants: Array<{ identity: string; role: string }> };
    };
    expect(config.auth.tokens).toEqual([
      { name: 'ci-deploy', sha256: createHash('sha256').update(secret).digest('hex') },
    ]);
    expect(config.auth.grants).toEqual([expect.objectContaining({ identity: 'ci-deploy', role: 'viewer' })]);
    expect(JSON.stringify(config)).not.toContain(secret);
  });

  it('gives a new secret each run', async () => {
    const again = await token('ci-deploy');
    const secretOf = (out: string) => /vq_[A-Za-z0-9_-]{43}/.exec(out)?.[0];
    expect(secretOf(again.stdout)).toBeDefined();
    expect(secretOf(again.stdout)).not.toBe(secretOf(printed.stdout));
  });

  it('prints lines the gateway accepts as they are: the secret then authenticates', async () => {
    const secret = /vq_[A-Za-z0-9_-]{43}/.exec(printed.stdout)?.[0] as string;
    const { auth } = parseYaml(printed.stdout.slice(printed.stdout.indexOf('\nauth:\n'))) as { auth: unknown };
    gateway = await startGateway({ default: 'test:///default' }, 'default', { config: { auth } });
    const anonymous = await gateway.query('{ hosts { name } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const res = await gateway.query('{ hosts { name } }', undefined, { authorization: `Bearer ${secret}` });
    expect(res).toEqual({ extensions: { cost: expect.any(Object) }, data: { hosts: [{ name: 'default' }] } });
  });

  it('quotes a name YAML would read as a number', async () => {
    const out = await token('1e3');
    const { auth } = parseYaml(out.stdout.slice(out.stdout.indexOf('\nauth:\n'))) as {
      auth: { tokens: Array<{ name: unknown }> };
    };
    expect(auth.tokens[0]?.name).toBe('1e3');
  });

  it.each([
    [[], /usage: npm run token -- NAME/],
    [['has space'], /"has space" is not a valid NAME/],
    [['a/b'], /"a\/b" is not a valid NAME/],
    [['x'.repeat(65)], /is not a valid NAME: use 1 to 64/],
  ])('refuses %j with exit code 2 and says why, printing no token', async (args, message) => {
    const out = await token(...(args as string[]));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).not.toMatch(/vq_/);
  });
});
