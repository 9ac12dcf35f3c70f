import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// setup.sh's first step: a node older than package.json's engines stops it with a way out,
// before it installs or builds anything.

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A PATH whose first `node` answers `--version` with the given version and does nothing else. */
function pathWithNode(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'virtql-fake-node-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'node'), `#!/bin/sh\n[ "$1" = --version ] && echo ${version} && exit 0\nexit 97\n`);
  chmodSync(join(dir, 'node'), 0o755);
  return `${dir}:${process.env.PATH ?? ''}`;
}

const run = (script: string, nodeVersion: string) =>
  spawnSync('bash', [join(ROOT, 'scripts', script)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: pathWithNode(nodeVersion) },
    timeout: 30_000,
  });

describe('setup checks the Node version first', () => {
  it('stops on Debian 12’s Node 18 with the version it needs and how to get Node 20', () => {
    const res = run('setup.sh', 'v18.19.0');
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('Node.js >= 20.5 is needed (package.json engines)');
    expect(res.stderr).toContain('is v18.19.0');
    expect(res.stderr).toContain('Debian 12 (bookworm) ships Node.js 18');
    expect(res.stderr).toContain('install Node.js 20 or newer');
    // Nothing else ran: no package check, npm install or build.
    expect(res.stdout).toBe('');
  });

  it('takes 20.5 and newer, refuses 20.4', () => {
    expect(run('check-node.sh', 'v20.5.0').status).toBe(0);
    expect(run('check-node.sh', 'v22.11.0').status).toBe(0);
    const old = run('check-node.sh', 'v20.4.1');
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('is v20.4.1');
  });
});
