import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built-entry.ts';
import { runCommand } from '../support/run-command.ts';
import { toolSkipReason } from '../support/tool-availability.ts';

const unitPath = join(repoRoot, 'deploy', 'systemd', 'virtql.service');
const skip = toolSkipReason('systemd-analyze', ['--version'], 'apt-get install systemd; scripts/setup.sh test does');
if (skip) console.warn(`skipping the systemd unit checks: ${skip}`);

/** The unit's settings as key → values (a key may repeat). */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

describe('the systemd unit', () => {
  const unit = settings(readFileSync(unitPath, 'utf8'));
  const one = (key: string) => unit.get(key)?.join(' ');

  it('runs as its own user in the libvirt group, hardened, with reload and restart', () => {
    expect(one('User')).toBe('virtql');
    expect(one('SupplementaryGroups')).toBe('libvirt');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/var/lib/virtql');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Restart')).toBe('on-failure');
    // A refused configuration exits 2 (src/index.ts): restarting would only repeat it.
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('ExecStart')).toBe('/usr/bin/node /opt/virtql/dist/index.js');
  });

  describe.skipIf(skip !== undefined)(`systemd-analyze${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let dir: string;
    let copy: string;
    beforeAll(async () => {
      // The node of this machine stands in for /usr/bin/node, which verify requires to exist.
      dir = await mkdtemp(join(tmpdir(), 'virtql-unit-'));
      copy = join(dir, 'virtql.service');
      const text = await readFile(unitPath, 'utf8');
      await writeFile(copy, text.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('verify finds nothing wrong', async () => {
      const { stdout, stderr } = await runCommand('systemd-analyze', ['verify', copy]);
      expect(`${stdout}${stderr}`.trim()).toBe('');
    });

    it('security rates its exposure low (under 2 of 10)', async () => {
      // --threshold counts in tenths: 20 is an exposure of 2.0.
      const { stdout } = await runCommand('systemd-analyze', ['security', '--offline=yes', '--threshold=20', copy]);
      const score = Number(/Overall exposure level for virtql\.service: ([\d.]+)/.exec(stdout)?.[1]);
      expect(score).toBeLessThan(2);
    });
  });
});

describe('deploy/systemd/install.sh', () => {
  it('is valid bash that installs the unit, the user in the libvirt group and the runtime only', async () => {
    const script = join(repoRoot, 'deploy', 'systemd', 'install.sh');
    await runCommand('bash', ['-n', script]);
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/useradd --system[\s\S]*?--groups libvirt virtql/);
    expect(text).toContain('bash scripts/setup.sh runtime');
    expect(text).toContain('/etc/systemd/system/virtql.service');
    expect(text).toMatch(/^\[ "\$\(id -u\)" -eq 0 \]/m);
  });
});

describe('scripts/setup.sh', () => {
  const list = async (mode: string) =>
    (await runCommand('bash', [join(repoRoot, 'scripts', 'setup.sh'), '--list', mode])).stdout.trim().split('\n');

  it('installs for npm start only the libvirt client library and the addon toolchain', async () => {
    const runtime = await list('runtime');
    expect(runtime).toEqual(['libvirt0', 'libvirt-dev', 'libxml2-dev', 'pkg-config', 'python3', 'make', 'g++']);
    const test = await list('test');
    for (const tool of [
      'qemu-system-x86',
      'redis-server',
      'chromium',
      'dnsmasq-base',
      'prometheus',
      'sasl2-bin',
      'xorriso',
    ]) {
      expect(runtime).not.toContain(tool);
      expect(test).toContain(tool);
    }
  });

  it('is run in runtime mode before npm start and in test mode before npm test and npm run bench', async () => {
    const { scripts, dependencies, devDependencies } = JSON.parse(
      await readFile(join(repoRoot, 'package.json'), 'utf8'),
    ) as Record<string, Record<string, string>>;
    expect(scripts?.prestart).toBe('bash scripts/setup.sh runtime');
    expect(scripts?.pretest).toBe('bash scripts/setup.sh test');
    expect(scripts?.prebench).toBe('bash scripts/setup.sh test');
    // npm start builds dist/ from the checkout with the production dependencies: tsc is one of them.
    expect(dependencies?.typescript).toBeDefined();
    expect(devDependencies?.typescript).toBeUndefined();
  });
});
